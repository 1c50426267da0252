#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "symtab/symtab.h"
#include "targets.h"

static int count_cb(const struct lm_symbol *s, void *arg)
{
	(void)s;
	return ++*(long *)arg > 100000;
}

#include <string.h>

int lm_fuzz_elf(const uint8_t *data, size_t size)
{
	int bad = 0;
	/* A memory file: the reader opens a path, and the disk stays out. */
	int fd = memfd_create("lm-fuzz-elf", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		char path[64], err[256];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		struct lm_objset set = {0};
		if (lm_objset_add(&set, path, 0, err, sizeof err) == 0) {
			long n = 0;
			for (size_t i = 0; i < set.n; i++)
				lm_symtab_each(&set.v[i], count_cb, &n);
			static const char *const names[] = {"main", "fix_square", "stat", "_init"};
			for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
				struct lm_symbol s;
				if (lm_symtab_find(&set, names[i], NULL, NULL, &s) == LM_FIND_OK) {
					/* what was found is what was asked for */
					if (!s.name || strcmp(s.name, names[i]) != 0)
						bad = 1;
					unsigned char code[32];
					lm_object_read(s.obj, s.value, code, sizeof code);
				}
				lm_symbol_free(&s);
			}
			struct lm_symbol v;
			lm_symtab_find(&set, "stat", "GLIBC_2.33", NULL, &v);
			lm_symbol_free(&v);
			lm_symtab_is_imported(&set, "malloc", NULL);
		}
		lm_objset_free(&set);
	}
	close(fd);
	return bad ? -1 : 0;
}
