/* symtab's internal view of one ELF file: what was read from it, indexed
 * for lookups. Built once per object (image.c, symread.c, symindex.c) and
 * then only read, except for views built on first need (imports sorted,
 * the name order for listing) and live objects read on first use. */
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
	uint32_t bhash; /* lm_base_hash of the name */
	uint64_t value, size;
	uint16_t shndx;
	uint8_t bind; /* enum lm_sym_bind */
	uint8_t type; /* enum lm_sym_type */
	bool hidden;  /* NAME@VERSION, not the default */
	bool from_symtab;
};

/* Where a function or object starts: how far the one before may reach. */
struct lm_bound {
	uint64_t value;
	uint16_t shndx;
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
	/* Indexed in time linear in the tables (symindex.c): no sort at
	 * start-up. */
	struct lm_fsym *syms; /* .dynsym entries first, then .symtab; no duplicates */
	size_t nsyms;
	uint32_t *byname;  /* open addressing on bhash: index + 1, 0 empty */
	uint32_t *byvalue; /* open addressing on the value: index + 1 */
	size_t hmask;
	struct lm_bound *bounds; /* unsorted until bounds_sorted */
	size_t nbounds;
	bool bounds_sorted;
	uint64_t *sec_end; /* sh_addr + sh_size per section index */
	size_t shnum;
	uint32_t *sorted;  /* indices in name order: built for lm_symtab_each */
	uint32_t *imports; /* offsets of undefined names; sorted unique once
	                      imports_sorted */
	size_t nimports;
	bool imports_sorted;
	/* Live objects are read on first use (lm_object_image). */
	bool lazy;
	bool failed;
};

/* Opening: 0, or -1 (LM_DAMAGED for a damaged file) with a message in
 * ERR. */
#define LM_DAMAGED LM_OBJSET_DAMAGED
int lm_image_open(const char *path, struct lm_image **out, char *err, size_t errlen);
void lm_image_free(struct lm_image *img);

/* Read the symbol tables of an open ELF into IMG (symread.c). */
int lm_image_read_symbols(struct lm_image *img, Elf *elf, char *err, size_t errlen);

#define LM_STR_FAIL UINT32_MAX

/* Append S (LEN bytes) to IMG's string area: its offset, or LM_STR_FAIL on
 * out-of-memory. */
uint32_t lm_image_str(struct lm_image *img, const char *s, size_t len);

/* An image of PATH not read yet: lm_object_image reads it on first use. */
struct lm_image *lm_image_lazy(const char *path);
/* The image of O, read on first use (O's soname, pie and has_symtab are
 * filled in then); NULL when O has no readable file. */
struct lm_image *lm_object_image(const struct lm_object *o);

/* ---- The index (symindex.c) ---- */

/* Hash of NAME up to its first '.': a name and its compiler clones
 * (NAME.constprop.0 ...) share it, so one probe sequence finds both. */
uint32_t lm_base_hash(const char *name);
/* Drop duplicate definitions and build the hash tables; -1 on OOM. */
int lm_index_build(struct lm_image *img);
/* Walk the entries whose bhash is H (*SLOT starts at 0): the next index,
 * or -1 at the end. Callers compare the names. */
long lm_index_next_name(const struct lm_image *img, uint32_t h, size_t *slot);
/* Same for the entries at file address VALUE. */
long lm_index_next_value(const struct lm_image *img, uint64_t value, size_t *slot);
/* Name order, as `ldmemo symbols` lists: name, value, .dynsym first,
 * default version first, version. */
int lm_fsym_cmp(const struct lm_image *img, const struct lm_fsym *a, const struct lm_fsym *b);
/* File address of the next symbol or section end after F in its section. */
uint64_t lm_image_next_addr(const struct lm_image *img, const struct lm_fsym *f);
/* Build img->sorted and sort the bounds (for listing every symbol);
 * -1 on OOM. */
int lm_image_sort(struct lm_image *img);
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
