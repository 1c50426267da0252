/* C prototypes and struct layouts from an object's DWARF (libdw), for the
 * ldmemo command: what a config would say, read from the debug information
 * instead of typed by hand. The debug information is the object's own, or
 * a separate file found through .gnu_debuglink or the build-id under the
 * debug directories (/usr/lib/debug by default).
 *
 * Types are described as C sees them, not in config kinds: the command
 * decides how to spell them. Everything returned belongs to the handle and
 * lives until lm_dwarf_close. Not for the shim: libdw is the command's. */
#ifndef LM_DWARF_H
#define LM_DWARF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lm_ctype_class {
	LM_CT_VOID,
	LM_CT_INT,   /* integers, char, enums */
	LM_CT_BOOL,  /* _Bool */
	LM_CT_FLOAT, /* float, double, long double (size 16) */
	LM_CT_POINTER,
	LM_CT_STRUCT,
	LM_CT_UNION,
	LM_CT_ARRAY,
	LM_CT_FUNC,  /* a function type (the target of a function pointer) */
	LM_CT_OTHER, /* complex, vector, __int128 ... */
};

struct lm_cmember;

/* A type with typedefs and qualifiers peeled off. */
struct lm_ctype {
	enum lm_ctype_class cls;
	uint64_t size;
	bool is_signed; /* LM_CT_INT */
	bool is_char;   /* LM_CT_INT: char, signed char, unsigned char */
	char *name;     /* the C spelling: "unsigned short", "struct point", "char *" */
	/* LM_CT_POINTER: the pointee (NULL for void *); LM_CT_ARRAY: the element. */
	const struct lm_ctype *target;
	bool target_const; /* LM_CT_POINTER: points to const */
	uint64_t count;    /* LM_CT_ARRAY: elements; 0 when unknown (flexible) */
	char *tag;         /* STRUCT, UNION: the tag, else a typedef naming it, else NULL */
	bool complete;     /* STRUCT, UNION: the members are known */
	struct lm_cmember *members; /* STRUCT, UNION, in declaration order */
	size_t nmembers;
};

struct lm_cmember {
	char *name;          /* NULL for an anonymous struct or union member */
	char *cname;         /* the member's type as declared: "size_t", "const char *" */
	uint64_t offset;     /* bytes from the start */
	uint64_t bit_size;   /* 0 unless a bitfield */
	uint64_t bit_offset; /* bitfield: bits from the start of the struct */
	const struct lm_ctype *type;
};

struct lm_cparam {
	char *name; /* may be NULL */
	char *cname;
	const struct lm_ctype *type;
};

struct lm_cfunc {
	char *name;
	char *ret_cname;
	const struct lm_ctype *ret; /* LM_CT_VOID for void */
	struct lm_cparam *params;
	size_t nparams;
	bool variadic;
	bool prototyped; /* false for an old-style `int f()` declaration */
};

struct lm_dwarf;

/* The debug information of the ELF file PATH. DEBUG_PATH lists the
 * directories searched for separate debug files as libdwfl's
 * debuginfo_path does (NULL: the default, ":.debug:/usr/lib/debug").
 * Returns NULL when there is none (or on out-of-memory); WHY then says so. */
struct lm_dwarf *lm_dwarf_open(const char *path, const char *debug_path, char *why, size_t len);
void lm_dwarf_close(struct lm_dwarf *d);

/* The file the DWARF was read from: PATH itself or the separate debug file. */
const char *lm_dwarf_source(const struct lm_dwarf *d);

/* The prototype of function NAME (a definition preferred to a declaration),
 * or NULL when the DWARF does not describe it or on out-of-memory. */
const struct lm_cfunc *lm_dwarf_func(struct lm_dwarf *d, const char *name);

/* The complete struct or union named NAME by its tag or by a typedef, or
 * NULL. */
const struct lm_ctype *lm_dwarf_struct(struct lm_dwarf *d, const char *name);

#endif
