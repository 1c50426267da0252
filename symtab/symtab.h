/* ELF symbol discovery with libelf: a name in; address, size, binding and
 * object out. Knows nothing of caching or hooking.
 *
 * Two ways in: a live process (lm_objset_live, through dl_iterate_phdr) and
 * offline files (lm_objset_offline: the program and the libraries it would
 * load, found as ldd finds them, without running it). Both yield an ordered
 * set of objects, searched like the dynamic linker searches. */
#ifndef LM_SYMTAB_H
#define LM_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lm_sym_bind { LM_BIND_LOCAL, LM_BIND_GLOBAL, LM_BIND_WEAK };
enum lm_sym_type { LM_SYM_FUNC, LM_SYM_IFUNC };

/* One loaded (or would-be loaded) ELF object. */
struct lm_object {
	char *path;      /* as the loader names it; "" main program -> resolved path */
	char *soname;    /* DT_SONAME or NULL */
	uintptr_t bias;  /* load bias (l_addr); 0 offline */
	bool is_main;    /* the executable */
	bool pie;        /* ET_DYN executable (or a library) */
	bool has_symtab; /* has .symtab (unstripped); live: known once a lookup
	                    needed the file */
	void *priv;      /* symtab's parsed data (the file's index); opaque */
	void *live;      /* live sets: the in-memory view; opaque */
};

/* lm_objset_add may move V: pointers into it (lm_symbol.obj) do not
 * survive an add. */
struct lm_objset {
	struct lm_object *v; /* search order: main program, then load order */
	size_t n;
	char **missing; /* offline: DT_NEEDED names not found (like ldd's
	                   "not found") */
	size_t nmissing;
	/* Live sets: told once about each object whose file cannot be read
	 * when a lookup needs it (its static functions stay unsearched). */
	void (*warn)(const char *msg, void *arg);
	void *warn_arg;
};

/* A function definition found for a name. */
struct lm_symbol {
	const struct lm_object *obj;
	char *name;           /* the symbol as found (no version) */
	char *version;        /* version name or NULL */
	bool default_version; /* @@ (or unversioned) */
	uint64_t value;       /* st_value: file address */
	uintptr_t addr;       /* runtime address: value + bias (offline: value) */
	uint64_t size;        /* st_size */
	uint64_t next_addr;   /* file address of the next symbol or section end in
	                         the same section: how far padding may reach.
	                         Live sets: 0 until lm_symtab_reach */
	uint16_t shndx;       /* section index */
	enum lm_sym_bind bind;
	enum lm_sym_type type;
	bool from_symtab; /* found only in .symtab (a static function) */
	char **aliases;   /* other names at the same address in the object
	                     (offline and added objects) */
	size_t naliases;
	char **clones; /* NAME.constprop.N, .isra, .part, .cold ... (live sets:
	                  for names found in .symtab) */
	size_t nclones;
	bool exported; /* in .dynsym: other objects can bind to it */
};

enum lm_find_status {
	LM_FIND_OK,
	LM_FIND_NOT_FOUND,     /* no definition anywhere */
	LM_FIND_ONLY_IMPORTED, /* referenced, never defined in the set */
	LM_FIND_STRIPPED,      /* not found, and some searched object is stripped */
	LM_FIND_BAD_VERSION,   /* the name exists, not with that version */
};

/* Build the set for this process, in the dynamic linker's search order
 * (dl_iterate_phdr). Exported names are found in memory, through each
 * object's .gnu.hash or DT_HASH: no file is read for them. A file is
 * mapped only for a name no object exports (one pass over its .symtab for
 * every such name of the lookup), for an address lookup, or for the
 * listing views (lm_symtab_each): lookups on one set must come from one
 * thread at a time. Returns 0, or -1 on out-of-memory. */
int lm_objset_live(struct lm_objset *set);

/* Build the set for PROGRAM without running it: the program, then its
 * DT_NEEDED libraries breadth-first, found through DT_RPATH/DT_RUNPATH,
 * LD_LIBRARY_PATH, /etc/ld.so.cache and the default directories. ERR gets
 * a message on failure (missing file, not ELF, not x86-64 ELF64, damaged):
 * -1, or LM_OBJSET_DAMAGED when the program or one of its libraries is an
 * ELF file that cannot be read (truncated, section headers outside the
 * file). */
#define LM_OBJSET_DAMAGED (-2)
int lm_objset_offline(const char *program, struct lm_objset *set, char *err, size_t errlen);

/* Add one object (a library loaded later). PATH read from disk. */
int lm_objset_add(struct lm_objset *set, const char *path, uintptr_t bias, char *err,
                  size_t errlen);

void lm_objset_free(struct lm_objset *set);

/* Find NAME (VERSION may be NULL: the default version) in SET, in search
 * order; OBJECT, if non-NULL, restricts the search to objects whose base
 * name equals it or whose soname starts with it. Undefined entries and a
 * non-PIE executable's canonical PLT stubs are never returned. */
enum lm_find_status lm_symtab_find(const struct lm_objset *set, const char *name,
                                   const char *version, const char *object, struct lm_symbol *out);
void lm_symbol_free(struct lm_symbol *s);

/* Several lookups at once: exported names through the hash tables, then
 * one pass over each searched .symtab for all the names still missing.
 * Each query's status and symbol (free it) are filled in. */
struct lm_query {
	const char *name, *version, *object; /* as lm_symtab_find's */
	enum lm_find_status status;
	struct lm_symbol sym;
};
void lm_symtab_find_all(const struct lm_objset *set, struct lm_query *q, size_t n);

/* Fill S->next_addr where a live set left it 0 (it scans the object's
 * symbol tables: ask only when the padding matters). */
void lm_symtab_reach(struct lm_symbol *s);

/* The function symbol of OBJ that starts at runtime address ADDR (an
 * IFUNC's implementation, found by address). 0, or -1 when none does. */
int lm_symtab_at(const struct lm_object *obj, uintptr_t addr, struct lm_symbol *out);

/* Every function symbol of OBJ, for `ldmemo symbols`, in name order
 * (aliases and clones left empty). CB returns non-zero to stop. */
typedef int (*lm_sym_cb)(const struct lm_symbol *s, void *arg);
int lm_symtab_each(const struct lm_object *obj, lm_sym_cb cb, void *arg);

/* nearest.c: the function name of SET closest to NAME (at most a third of
 * its letters changed, 1 to 3 edits), into OUT: a did-you-mean for a name
 * no object defines. Maps each object's file (lm_symtab_each): ask only on
 * the error path. false when no name is that close. */
bool lm_symtab_nearest(const struct lm_objset *set, const char *name, char *out, size_t outlen);

/* Does an object of SET other than EXCEPT import NAME (an undefined entry:
 * calls that go through its PLT/GOT)? */
bool lm_symtab_is_imported(const struct lm_objset *set, const char *name,
                           const struct lm_object *except);

/* Read LEN bytes at file address VALUE of O from its file (through the
 * PT_LOAD headers), for analysing code without running it. Returns the
 * bytes read (fewer at the end of a segment), or -1. */
long lm_object_read(const struct lm_object *o, uint64_t value, void *buf, size_t len);

/* "not found", "only imported", ... for messages. */
const char *lm_find_status_name(enum lm_find_status st);

/* The part of the dynamic linker's library search that depends on who
 * asks: DT_RPATH (of the requester, then of the program), LD_LIBRARY_PATH,
 * DT_RUNPATH, with $ORIGIN expanded. The shim needs it to keep a dlopen
 * it interposes resolving names as the real caller's would. */
typedef int (*lm_libpath_try)(const char *path, void *arg);
struct lm_searcher {
	const char *rpath, *runpath; /* NULL when absent */
	const char *origin;          /* the directory of the object */
};
/* Offer each candidate path to TRY until it returns 0 (then 0); -1 when
 * none was taken (the cache and the default directories come next). EXE
 * may be NULL when the requester is the program. */
int lm_libpath_search_paths(const char *name, const struct lm_searcher *req,
                            const struct lm_searcher *exe, lm_libpath_try try, void *arg);
/* The directory of PATH, symlinks resolved. */
void lm_libpath_origin(const char *path, char *out, size_t outlen);

/* The program's path, from /proc/self/exe: read at the first call and
 * kept (on the heap) for the process's life; NULL when unreadable. */
const char *lm_self_exe(void);

/* Does OBJECT name O (base name, or soname prefix)? */
bool lm_object_matches(const struct lm_object *o, const char *object);

const char *lm_bind_name(enum lm_sym_bind b);

#endif
