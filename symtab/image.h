/* symtab's internal view of one ELF file: what was read from it, indexed
 * for lookups. Built once per object (image.c, symread.c); the lookups in
 * lookup.c and the searches in objset.c only read it. */
#ifndef LM_SYMTAB_IMAGE_H
#define LM_SYMTAB_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <gelf.h>

#include "symtab.h"

/* A function definition. Names are offsets into lm_image.strs (0: none). */
struct lm_fsym {
	uint32_t name;
	uint32_t version;
	uint64_t value, size, next_addr;
	uint16_t shndx;
	uint8_t bind; /* enum lm_sym_bind */
	uint8_t type; /* enum lm_sym_type */
	bool hidden;  /* NAME@VERSION, not the default */
	bool from_symtab;
};

struct lm_load {
	uint64_t vaddr, filesz, offset;
};

struct lm_image {
	char *path;
	char *soname;
	char *interp; /* PT_INTERP, NULL for a library */
	char *rpath, *runpath;
	char **needed;
	size_t nneeded;
	uint16_t e_type;
	bool has_symtab;
	dev_t dev;
	ino_t ino;
	struct lm_load *loads;
	size_t nloads;
	char *strs; /* every name, NUL-separated; strs[0] == '\0' */
	size_t strs_len, strs_cap;
	struct lm_fsym *syms; /* sorted by name, dynsym entries first */
	size_t nsyms;
	uint32_t *byaddr;  /* indices into syms, sorted by value */
	uint32_t *imports; /* sorted unique offsets of undefined names */
	size_t nimports;
};

/* Opening: 0, or -1 with a message in ERR. */
int lm_image_open(const char *path, struct lm_image **out, char *err, size_t errlen);
void lm_image_free(struct lm_image *img);

/* Read the symbol tables of an open ELF into IMG (symread.c). */
int lm_image_read_symbols(struct lm_image *img, Elf *elf, char *err, size_t errlen);

#define LM_STR_FAIL UINT32_MAX

/* Append S (LEN bytes) to IMG's string area: its offset, or LM_STR_FAIL on
 * out-of-memory. */
uint32_t lm_image_str(struct lm_image *img, const char *s, size_t len);

static inline const char *lm_image_name(const struct lm_image *img, uint32_t off)
{
	return img->strs + off;
}

/* First index in syms whose name is >= NAME (lookup.c). */
size_t lm_image_lower(const struct lm_image *img, const char *name);
bool lm_image_imports(const struct lm_image *img, const char *name);

/* The ELF-free helpers of the library search (libpath.c). */
struct lm_ldcache;
struct lm_ldcache *lm_ldcache_load(const char *file);
const char *lm_ldcache_lookup(const struct lm_ldcache *c, const char *soname, size_t *iter);
void lm_ldcache_free(struct lm_ldcache *c);

/* Offer each place NAME (a DT_NEEDED of REQ; EXE is the program) may be
 * found to TRY, in the dynamic linker's order, until TRY returns 0. */
int lm_libpath_search(const char *name, const struct lm_image *req, const struct lm_image *exe,
                      const struct lm_ldcache *cache, lm_libpath_try try, void *arg);

#endif
