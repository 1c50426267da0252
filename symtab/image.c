/* Opening one ELF file: validation, program headers and the dynamic
 * section. Every size read from the file is checked against the file before
 * use: the files come from anywhere, and the shim runs inside other people's
 * programs. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "libelf_lazy.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

uint32_t lm_image_str(struct lm_image *img, const char *s, size_t len)
{
	size_t need = img->strs_len + len + 1;
	uint32_t off;

	if (need >= UINT32_MAX)
		return LM_STR_FAIL;
	if (need > img->strs_cap) {
		/* small at first: most images the shim sees stay lazy, with
		 * only the empty name */
		size_t cap = img->strs_cap ? img->strs_cap : 64;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(img->strs, cap);
		if (!p)
			return LM_STR_FAIL;
		img->strs = p;
		img->strs_cap = cap;
	}
	off = (uint32_t)img->strs_len;
	memcpy(img->strs + off, s, len);
	img->strs[off + len] = '\0';
	img->strs_len = need;
	return off;
}

static int read_loads(struct lm_image *img, Elf *elf, const char *raw, size_t rawlen, char *err,
                      size_t errlen)
{
	size_t n, i;

	if (lm_elf.elf_getphdrnum(elf, &n) != 0) {
		seterr(err, errlen, "%s: damaged ELF: bad program headers (%s)", img->path,
		       lm_elf.elf_errmsg(-1));
		return LM_DAMAGED;
	}
	img->loads = calloc(n ? n : 1, sizeof(*img->loads));
	if (!img->loads) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!lm_elf.gelf_getphdr(elf, (int)i, &ph)) {
			seterr(err, errlen, "%s: damaged ELF: program header %zu unreadable",
			       img->path, i);
			return LM_DAMAGED;
		}
		if (ph.p_type == PT_LOAD) {
			struct lm_load *l = &img->loads[img->nloads++];

			l->vaddr = ph.p_vaddr;
			l->offset = ph.p_offset;
			/* Only bytes actually in the file can be read back. */
			if (ph.p_offset > rawlen)
				l->filesz = 0;
			else if (ph.p_filesz > rawlen - ph.p_offset)
				l->filesz = rawlen - ph.p_offset;
			else
				l->filesz = ph.p_filesz;
		} else if (ph.p_type == PT_INTERP && !img->interp) {
			if (ph.p_offset >= rawlen || ph.p_filesz > rawlen - ph.p_offset ||
			    ph.p_filesz == 0) {
				seterr(err, errlen, "%s: damaged ELF: PT_INTERP past the end",
				       img->path);
				return LM_DAMAGED;
			}
			img->interp = strndup(raw + ph.p_offset, ph.p_filesz);
			if (!img->interp) {
				seterr(err, errlen, "out of memory");
				return -1;
			}
		}
	}
	return 0;
}

static int add_needed(struct lm_image *img, const char *name)
{
	char **v = realloc(img->needed, (img->nneeded + 1) * sizeof(*v));

	if (!v)
		return -1;
	img->needed = v;
	v[img->nneeded] = strdup(name);
	if (!v[img->nneeded])
		return -1;
	img->nneeded++;
	return 0;
}

/* DT_SONAME, DT_NEEDED, DT_RPATH, DT_RUNPATH from the SHT_DYNAMIC section. */
static int read_dynamic(struct lm_image *img, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
                        char *err, size_t errlen)
{
	Elf_Data *d = lm_elf.elf_getdata(scn, NULL);
	size_t shnum, i, n;

	if (!d || lm_elf.elf_getshdrnum(elf, &shnum) != 0 || sh->sh_link >= shnum) {
		seterr(err, errlen, "%s: damaged ELF: unreadable dynamic section", img->path);
		return LM_DAMAGED;
	}
	n = d->d_size / sizeof(Elf64_Dyn);
	for (i = 0; i < n; i++) {
		GElf_Dyn dyn;
		const char *s;
		char **slot = NULL;

		if (!lm_elf.gelf_getdyn(d, (int)i, &dyn) || dyn.d_tag == DT_NULL)
			break;
		if (dyn.d_tag != DT_NEEDED && dyn.d_tag != DT_SONAME && dyn.d_tag != DT_RPATH &&
		    dyn.d_tag != DT_RUNPATH)
			continue;
		s = lm_elf.elf_strptr(elf, sh->sh_link, dyn.d_un.d_val);
		if (!s) {
			seterr(err, errlen, "%s: damaged ELF: dynamic string out of range",
			       img->path);
			return LM_DAMAGED;
		}
		if (dyn.d_tag == DT_NEEDED) {
			if (add_needed(img, s) != 0) {
				seterr(err, errlen, "out of memory");
				return -1;
			}
			continue;
		}
		slot = dyn.d_tag == DT_SONAME  ? &img->soname
		       : dyn.d_tag == DT_RPATH ? &img->rpath
		                               : &img->runpath;
		if (*slot)
			continue;
		*slot = strdup(s);
		if (!*slot) {
			seterr(err, errlen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static int check_header(struct lm_image *img, Elf *elf, char *err, size_t errlen)
{
	GElf_Ehdr eh;

	if (lm_elf.elf_kind(elf) != ELF_K_ELF) {
		seterr(err, errlen, "%s: not an ELF file", img->path);
		return -1;
	}
	if (lm_elf.gelf_getclass(elf) != ELFCLASS64) {
		seterr(err, errlen, "%s: not a 64-bit ELF file (ldmemo handles x86-64 only)",
		       img->path);
		return -1;
	}
	if (!lm_elf.gelf_getehdr(elf, &eh)) {
		seterr(err, errlen, "%s: damaged ELF header (%s)", img->path,
		       lm_elf.elf_errmsg(-1));
		return LM_DAMAGED;
	}
	if (eh.e_machine != EM_X86_64) {
		seterr(err, errlen, "%s: ELF for machine %u, not x86-64", img->path,
		       (unsigned)eh.e_machine);
		return -1;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		seterr(err, errlen, "%s: not an executable or shared object", img->path);
		return -1;
	}
	img->e_type = eh.e_type;
	return 0;
}

/* libelf reads a file cut short as one without sections: a file whose
 * section headers or loaded segments lie past its end is damaged. */
static int check_extent(struct lm_image *img, const char *raw, size_t rawlen, char *err,
                        size_t errlen)
{
	Elf64_Ehdr eh;
	size_t shnum = 0;

	if (rawlen < sizeof(eh)) {
		seterr(err, errlen, "%s: damaged ELF: %zu bytes, shorter than its header",
		       img->path, rawlen);
		return LM_DAMAGED;
	}
	memcpy(&eh, raw, sizeof(eh));
	if (eh.e_shoff && eh.e_shoff <= rawlen && rawlen - eh.e_shoff >= sizeof(Elf64_Shdr)) {
		Elf64_Shdr first; /* copied: e_shoff need not be aligned */
		memcpy(&first, raw + eh.e_shoff, sizeof(first));
		shnum = eh.e_shnum ? eh.e_shnum : first.sh_size;
	}
	if (eh.e_shoff && (eh.e_shoff > rawlen || rawlen - eh.e_shoff < sizeof(Elf64_Shdr) ||
	                   shnum > (rawlen - eh.e_shoff) / sizeof(Elf64_Shdr))) {
		seterr(err, errlen,
		       "%s: damaged ELF: the file ends at byte %zu, before its section headers "
		       "(truncated?)",
		       img->path, rawlen);
		return LM_DAMAGED;
	}
	if (eh.e_phoff > rawlen || (size_t)eh.e_phnum * sizeof(Elf64_Phdr) > rawlen - eh.e_phoff) {
		seterr(err, errlen,
		       "%s: damaged ELF: the file ends at byte %zu, before its program headers "
		       "(truncated?)",
		       img->path, rawlen);
		return LM_DAMAGED;
	}
	for (size_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, raw + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD &&
		    (ph.p_offset > rawlen || ph.p_filesz > rawlen - ph.p_offset)) {
			seterr(err, errlen,
			       "%s: damaged ELF: the file ends at byte %zu, inside loaded segment "
			       "%zu (truncated?)",
			       img->path, rawlen, i);
			return LM_DAMAGED;
		}
	}
	return 0;
}

static int read_image(struct lm_image *img, Elf *elf, char *err, size_t errlen)
{
	Elf_Scn *scn = NULL;
	size_t rawlen = 0;
	const char *raw;

	int rc;

	if ((rc = check_header(img, elf, err, errlen)) != 0)
		return rc;
	raw = lm_elf.elf_rawfile(elf, &rawlen);
	if (!raw) {
		seterr(err, errlen, "%s: damaged ELF: unreadable (%s)", img->path,
		       lm_elf.elf_errmsg(-1));
		return LM_DAMAGED;
	}
	if ((rc = check_extent(img, raw, rawlen, err, errlen)) != 0 ||
	    (rc = read_loads(img, elf, raw, rawlen, err, errlen)) != 0)
		return rc;
	while ((scn = lm_elf.elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;

		if (!lm_elf.gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_DYNAMIC &&
		    (rc = read_dynamic(img, elf, scn, &sh, err, errlen)) != 0)
			return rc;
	}
	return lm_image_read_symbols(img, elf, err, errlen);
}

struct lm_image *lm_image_lazy(const char *path)
{
	struct lm_image *img = calloc(1, sizeof(*img));

	if (!img || !(img->path = strdup(path)) || lm_image_str(img, "", 0) == LM_STR_FAIL) {
		lm_image_free(img);
		return NULL;
	}
	img->lazy = true;
	return img;
}

/* Read IMG's file (IMG has its path and the empty name). */
static int load(struct lm_image *img, char *err, size_t errlen)
{
	const char *path = img->path;
	struct stat st;
	Elf *elf;
	int fd, rc;

	if (lm_libelf_open(err, errlen) != 0)
		return -1;
	/* elf_version is idempotent: called on every open, it needs no flag. */
	if (lm_elf.elf_version(EV_CURRENT) == EV_NONE) {
		seterr(err, errlen, "libelf: %s", lm_elf.elf_errmsg(-1));
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	img->dev = st.st_dev;
	img->ino = st.st_ino;
	elf = lm_elf.elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf) {
		seterr(err, errlen, "%s: not an ELF file (%s)", path, lm_elf.elf_errmsg(-1));
		rc = -1;
	} else {
		rc = read_image(img, elf, err, errlen);
		lm_elf.elf_end(elf);
	}
	close(fd);
	return rc;
}

int lm_image_open(const char *path, struct lm_image **out, char *err, size_t errlen)
{
	struct lm_image *img = lm_image_lazy(path);
	int rc;

	*out = NULL;
	if (!img) {
		seterr(err, errlen, "out of memory");
		return -1;
	}
	img->lazy = false;
	rc = load(img, err, errlen);
	if (rc != 0) {
		lm_image_free(img);
		return rc;
	}
	*out = img;
	return 0;
}

struct lm_image *lm_object_image(const struct lm_object *co)
{
	/* Reading on first use fills in the object: a set is used by one
	 * thread at a time. */
	struct lm_object *o = (struct lm_object *)co;
	struct lm_image *img = o ? o->priv : NULL;
	char err[256];
	int saved;

	if (!img || img->failed)
		return NULL;
	if (!img->lazy)
		return img;
	img->lazy = false;
	/* Lookups run inside the host program: its errno is not ours. */
	saved = errno;
	if (load(img, err, sizeof(err)) != 0 ||
	    (img->soname && !o->soname && !(o->soname = strdup(img->soname))))
		img->failed = true;
	errno = saved;
	if (img->failed)
		return NULL;
	o->pie = img->e_type == ET_DYN;
	o->has_symtab = img->has_symtab;
	return img;
}

void lm_image_free(struct lm_image *img)
{
	size_t i;

	if (!img)
		return;
	for (i = 0; i < img->nneeded; i++)
		free(img->needed[i]);
	free(img->needed);
	free(img->path);
	free(img->soname);
	free(img->interp);
	free(img->rpath);
	free(img->runpath);
	free(img->loads);
	free(img->strs);
	free(img->syms);
	free(img->byname);
	free(img->byvalue);
	free(img->bounds);
	free(img->sec_end);
	free(img->sorted);
	free(img->imports);
	free(img);
}
