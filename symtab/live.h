/* symtab's views of an object without its index: the dynamic symbol table
 * of a loaded object, read in memory where the dynamic linker mapped it
 * (dynlive.c), and the file's section headers and symbol tables through
 * mmap (elfmap.c). The shim's start-up uses these: it pays for the names
 * it asks, not for the symbols an object has. */
#ifndef LM_SYMTAB_LIVE_H
#define LM_SYMTAB_LIVE_H

#include <elf.h>
#include <link.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A file mapped read-only, its section headers and symbol tables checked
 * against its size once; every name a table points to lies inside its
 * string table, which ends with a NUL. */
struct lm_elfmap {
	const unsigned char *base;
	size_t len;
	const Elf64_Shdr *sh;
	size_t shnum;
	const Elf64_Sym *symtab, *dynsym;
	size_t nsymtab, ndynsym;
	const char *symstr, *dynstr;
	size_t symstrsz, dynstrsz;
};

/* 0, or -1 with what is wrong (naming PATH) in ERR. */
int lm_elfmap_open(const char *path, struct lm_elfmap *m, char *err, size_t errlen);
void lm_elfmap_close(struct lm_elfmap *m);
/* Whether PATH has a .symtab, from its ELF and section headers alone (a
 * pread of a few KB, not a map of the file): 1, 0, or -1 when the headers
 * cannot tell (lm_elfmap_open then says what is wrong). With END, the file
 * address of the end of section SHNDX is stored there on the way. */
int lm_elfmap_probe_symtab(const char *path, uint16_t shndx, uint64_t *end);
/* Name of entry S of a table whose strings are STR (STRSZ bytes). */
static inline const char *lm_elfmap_name(const char *str, size_t strsz, const Elf64_Sym *s)
{
	return s->st_name < strsz ? str + s->st_name : "";
}
/* File address of the first function or object after VALUE in section
 * SHNDX (both tables), or the section's end; 0 when SHNDX is no section. */
uint64_t lm_elfmap_next_addr(const struct lm_elfmap *m, uint16_t shndx, uint64_t value);
/* The same over the N entries of V alone, from NEXT down. */
uint64_t lm_syms_next_addr(const Elf64_Sym *v, size_t n, uint16_t shndx, uint64_t value,
                           uint64_t next);

/* The wanted names of one .symtab pass: a tiny hash set on the name up to
 * its first '.' or '@' (so clones and versioned names meet their base),
 * behind a filter on the first two bytes. */
#define LM_WANT_MAX 64
struct lm_wantset {
	const char *name[LM_WANT_MAX];
	size_t len[LM_WANT_MAX];
	uint32_t hash[LM_WANT_MAX];
	unsigned char slot[128]; /* open addressing: index + 1, 0 empty */
	uint64_t first2[1024];   /* bitmap over the first two bytes */
	size_t n;
};
void lm_wantset_init(struct lm_wantset *w);
/* Add NAME (kept by pointer); -1 when the set is full. */
int lm_wantset_add(struct lm_wantset *w, const char *name);
/* Call CB for each function entry of .symtab whose base name is wanted. */
typedef void (*lm_scan_cb)(size_t want, const Elf64_Sym *s, const char *name, void *arg);
void lm_elfmap_scan(const struct lm_elfmap *m, const struct lm_wantset *w, lm_scan_cb cb,
                    void *arg);

/* The dynamic symbol table of a loaded object, as its dynamic section
 * describes it in memory. */
struct lm_live {
	uintptr_t bias;
	uintptr_t lo, hi; /* the PT_LOAD segments' extent in memory */
	const Elf64_Sym *sym;
	const char *str;
	size_t strsz;
	const Elf64_Half *versym;
	const Elf64_Verdef *verdef;
	size_t verdefnum;
	const uint32_t *gnu;  /* DT_GNU_HASH */
	const uint32_t *sysv; /* DT_HASH */
	size_t nsyms;         /* entries, counted on first need */
	const char *soname;
	/* The file, mapped when a .symtab pass or an address lookup needs it. */
	int file;           /* 0 not tried, 1 mapped, -1 unusable */
	bool no_symtab;     /* its headers list no .symtab (the file not mapped) */
	uint16_t end_shndx; /* no_symtab: the section whose end is known */
	uint64_t sec_end;
	struct lm_elfmap map;
};

/* Fill L from the program headers the dynamic linker reports. -1 when the
 * object has no usable dynamic section (then it has no exported names). */
int lm_live_init(struct lm_live *l, uintptr_t bias, const ElfW(Phdr) * phdr, size_t phnum);
/* Indices of the function definitions named NAME (every version), through
 * .gnu.hash or DT_HASH; at most MAX; returns how many. */
size_t lm_live_lookup(const struct lm_live *l, const char *name, uint32_t *idx, size_t max);
/* Entry I's version name (NULL: none) and whether it is hidden (NAME@V). */
const char *lm_live_version(const struct lm_live *l, uint32_t i, bool *hidden);
/* The number of entries of the table. */
size_t lm_live_count(struct lm_live *l);

/* ---- Lookups in live objects (livefind.c) ---- */

struct lm_object;
struct lm_objset;
struct lm_query;
struct lm_symbol;
struct lm_fsym;

/* A .symtab definition a query may get: from an object's index (F) or
 * from a live object's mapped file (S, NAME). */
#define LM_CLONES_MAX 8
struct lm_cand {
	const struct lm_object *o;
	const struct lm_fsym *f;
	const Elf64_Sym *s;
	const char *name;
	const Elf64_Sym *clone[LM_CLONES_MAX];
	const char *clone_name[LM_CLONES_MAX];
	size_t nclones;
};

/* One query's progress through the search. */
struct lm_progress {
	bool done, other_version, stripped;
	bool here; /* wanted in the object being searched */
	struct lm_cand global, local;
};

/* The exported definition of Q's name in O (a live object). */
void lm_live_find_exported(const struct lm_object *o, struct lm_query *q, struct lm_progress *pr);
/* One pass over O's .symtab for every query marked here. */
void lm_live_candidates(const struct lm_objset *set, const struct lm_object *o,
                        const struct lm_query *q, struct lm_progress *pr, size_t n);
int lm_live_fill_symtab(const struct lm_cand *c, struct lm_symbol *out);
int lm_live_at(const struct lm_object *o, uintptr_t addr, struct lm_symbol *out);
/* Does O import NAME (an undefined entry of its dynamic table)? */
bool lm_live_imports(const struct lm_object *o, const char *name);

/* Shared with lookup.c. */
bool lm_is_clone_suffix(const char *s);
int lm_push_name(char ***v, size_t *n, const char *name);
void lm_sort_names(char **v, size_t n);

#endif
