/* The entry point of libldmemo-proto.so: the same prototype check as
 * `ldmemo check`, run by the shim on the objects it hooks under
 * LDMEMO_STRICT=1. */
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compare.h"
#include "plugin.h"

/* The last object's DWARF: methods of one object come together. Kept
 * for the process's life (start-up and each dlopen ask again). */
static char *open_path;
static struct lm_dwarf *open_dw;

/* Has PATH a .debug_info section of its own? Cheap: the section headers
 * only, where libdw would also search the debug directories. */
static bool own_debug_info(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool found = false;
	size_t shstrndx;
	elf_version(EV_CURRENT);
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	if (e && elf_getshdrstrndx(e, &shstrndx) == 0) {
		for (Elf_Scn *scn = elf_nextscn(e, NULL); scn && !found;
		     scn = elf_nextscn(e, scn)) {
			GElf_Shdr sh;
			const char *name =
			    gelf_getshdr(scn, &sh) ? elf_strptr(e, shstrndx, sh.sh_name) : NULL;
			found =
			    name && strcmp(name, ".debug_info") == 0 && sh.sh_type != SHT_NOBITS;
		}
	}
	elf_end(e);
	close(fd);
	return found;
}

static struct lm_dwarf *dwarf_of(const char *object)
{
	if (open_path && strcmp(open_path, object) == 0)
		return open_dw;
	lm_dwarf_close(open_dw);
	free(open_path);
	open_dw = NULL;
	open_path = strdup(object);
	char why[256];
	if (open_path && own_debug_info(object))
		open_dw = lm_dwarf_open(object, NULL, why, sizeof why);
	return open_dw;
}

__attribute__((visibility("default"))) int lm_proto_check(const char *file,
                                                          const struct lm_method *m,
                                                          const char *object, char *msg, size_t len)
{
	struct lm_dwarf *dw = dwarf_of(object);
	const struct lm_cfunc *f = dw ? lm_dwarf_func(dw, m->name) : NULL;
	if (!f || lm_proto_unreliable(f))
		return 0;
	char *found = NULL, proto[1024];
	int errs = lm_proto_compare(file, m, f, &found);
	if (errs > 0) {
		lm_proto_describe(f, proto, sizeof proto);
		snprintf(msg, len, "%s  DWARF (%s): %s", found ? found : "", lm_dwarf_source(dw),
		         proto);
	}
	free(found);
	return errs > 0;
}

_Static_assert(__builtin_types_compatible_p(__typeof__(&lm_proto_check), lm_proto_check_fn),
               "the entry point has the type the shim calls it by");
