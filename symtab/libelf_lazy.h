/* libelf, opened on first use (libelf_lazy.c): the shim loads it only when
 * a lookup needs an object's file read whole (listing views, objects that
 * are not loaded), never to start a process (issue 19). */
#ifndef LM_SYMTAB_LIBELF_LAZY_H
#define LM_SYMTAB_LIBELF_LAZY_H

#include <stddef.h>

#include <gelf.h>

/* Every libelf function symtab calls, one line each. */
#define LM_LIBELF_FUNCS(X) \
	X(elf_begin)       \
	X(elf_end)         \
	X(elf_errmsg)      \
	X(elf_getdata)     \
	X(elf_getphdrnum)  \
	X(elf_getscn)      \
	X(elf_getshdrnum)  \
	X(elf_kind)        \
	X(elf_ndxscn)      \
	X(elf_nextscn)     \
	X(elf_rawfile)     \
	X(elf_strptr)      \
	X(elf_version)     \
	X(gelf_getclass)   \
	X(gelf_getdyn)     \
	X(gelf_getehdr)    \
	X(gelf_getphdr)    \
	X(gelf_getshdr)    \
	X(gelf_getsym)     \
	X(gelf_getverdaux) \
	X(gelf_getverdef)  \
	X(gelf_getversym)

#define LM_LIBELF_MEMBER(f) __typeof__(f) *(f);
struct lm_libelf {
	LM_LIBELF_FUNCS(LM_LIBELF_MEMBER)
};
#undef LM_LIBELF_MEMBER

/* Filled by lm_libelf_open; read only after it returned 0. */
extern struct lm_libelf lm_elf;

/* Open libelf once (thread-safe): 0, or -1 with a message in ERR. */
int lm_libelf_open(char *err, size_t errlen);

#endif
