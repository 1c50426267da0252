/* The config language (spec section 3) as plain data.
 *
 * Text goes in, a struct lm_config comes out. This module knows nothing of
 * ELF, hooking or caching: the shim and the ldmemo command read the
 * description and decide what to do with it. */
#ifndef LM_CONFIG_H
#define LM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Durations ---------------------------------------------------------- */

#define LM_DUR_NEVER INT64_MAX /* `never`: no expiry */
#define LM_DUR_UNSET (-1)      /* key absent: inherit */

/* ---- Kinds -------------------------------------------------------------- */

/* One enum serves parameters, returns and struct fields; each place accepts
 * a subset, checked by the parser. */
enum lm_kind {
	LM_K_VOID,
	LM_K_I8,
	LM_K_I16,
	LM_K_I32,
	LM_K_I64,
	LM_K_U8,
	LM_K_U16,
	LM_K_U32,
	LM_K_U64,
	LM_K_BOOL,
	LM_K_F32,
	LM_K_F64,
	LM_K_STR,        /* const char *, content is the key / a copied string */
	LM_K_BUF,        /* buf(SIZE) */
	LM_K_PTR,        /* address */
	LM_K_IGNORE,     /* param only: not in the key */
	LM_K_OUT,        /* param only: out(SIZE) */
	LM_K_STRV,       /* field only: NULL-terminated string array */
	LM_K_BYTES,      /* field only: bytes(N) inline */
	LM_K_STRUCT,     /* field only: nested [type] by value */
	LM_K_STRUCT_PTR, /* field only: pointer to a [type], deep-copied */
};

/* Width in bytes of an integer or float kind, 0 for the others. */
size_t lm_kind_width(enum lm_kind k);
bool lm_kind_is_int(enum lm_kind k); /* i8..u64, bool */
bool lm_kind_is_signed(enum lm_kind k);
bool lm_kind_is_float(enum lm_kind k); /* f32, f64 */
const char *lm_kind_name(enum lm_kind k);
/* The class a literal for a parameter of kind K must be of (drop values,
 * `ldmemo ctl invalidate` arguments): "integer", "float", else its name. */
const char *lm_kind_class(enum lm_kind k);

/* SIZE in buf(SIZE), out(SIZE) and a buf return. */
enum lm_size_kind {
	LM_SZ_NONE,
	LM_SZ_LIT,   /* an integer literal: lit */
	LM_SZ_PARAM, /* an integer parameter's value: param (index) */
	LM_SZ_TYPE,  /* sizeof a [type] without pointer fields: type (index) */
	LM_SZ_RET,   /* out only: the return value, when >= 0 */
	LM_SZ_STR,   /* out only: a NUL-terminated string */
};

struct lm_size {
	enum lm_size_kind kind;
	size_t lit;
	int param; /* index into lm_sig.params */
	int type;  /* index into lm_config.types */
};

struct lm_pos {
	int line, col; /* 1-based; 0 when not from a file */
};

struct lm_param {
	char *name; /* may be NULL: params need no name */
	enum lm_kind kind;
	struct lm_size size; /* buf, out */
	struct lm_pos pos;
};

/* How the return value is produced on a hit. */
enum lm_ret_kind {
	LM_RET_VALUE,      /* void, integers, floats, ptr: the register */
	LM_RET_STR,        /* str: fresh malloc'd copy */
	LM_RET_STATIC_STR, /* static str: per-thread copy */
	LM_RET_BUF,        /* buf(SIZE): fresh malloc'd copy */
	LM_RET_STATIC_BUF, /* static buf(SIZE): per-thread copy */
	LM_RET_PARAM,      /* ptr(NAME): the pointer passed as param, or NULL */
	LM_RET_STATIC_TYPE /* static TYPE*: per-thread deep copy */
};

struct lm_ret {
	enum lm_ret_kind how;
	enum lm_kind kind;   /* LM_RET_VALUE: the scalar kind (VOID, ints, floats, PTR) */
	struct lm_size size; /* LM_RET_BUF, LM_RET_STATIC_BUF */
	int param;           /* LM_RET_PARAM: index of NAME */
	int type;            /* LM_RET_STATIC_TYPE: index into lm_config.types */
	struct lm_pos pos;
};

struct lm_sig {
	char *name;
	struct lm_ret ret;
	struct lm_param *params;
	size_t nparams;
};

/* ---- when (3.4) --------------------------------------------------------- */

enum lm_expr_op { LM_E_AND, LM_E_OR, LM_E_CMP };
enum lm_cmp { LM_CMP_EQ, LM_CMP_NE, LM_CMP_LT, LM_CMP_LE, LM_CMP_GT, LM_CMP_GE };
enum lm_operand { LM_OPND_RET, LM_OPND_ERRNO };
enum lm_lit_kind { LM_LIT_INT, LM_LIT_FLOAT, LM_LIT_NULL };

struct lm_expr {
	enum lm_expr_op op;
	struct lm_expr *lhs, *rhs; /* AND, OR */
	/* CMP: */
	enum lm_operand operand;
	enum lm_cmp cmp;
	enum lm_lit_kind lit;
	int64_t ival; /* LM_LIT_INT (errno names become their value) */
	double fval;  /* LM_LIT_FLOAT */
	struct lm_pos pos;
};

/* ---- drop (3.5) --------------------------------------------------------- */

enum lm_dropval_kind { LM_DV_ANY, LM_DV_PARAM, LM_DV_INT, LM_DV_FLOAT, LM_DV_STR };

struct lm_dropval {
	enum lm_dropval_kind kind;
	int param; /* LM_DV_PARAM: index into the write function's params */
	int64_t ival;
	double fval;
	char *sval; /* LM_DV_STR */
	struct lm_pos pos;
};

/* dropval.c: one literal value (`*`, an integer, a float or a "string"
 * with \\, \" and \n escapes) as `drop` writes it, from S (LEN bytes): 0,
 * or -1 with WHY. V->sval is malloc'd. The same reader serves `drop` and
 * `ldmemo ctl invalidate`. */
int lm_dropval_parse(const char *s, size_t len, struct lm_dropval *v, char *why, size_t whylen);
/* Can literal V match a key parameter of kind K? An integer matches an
 * integer, a float or an address (ptr); a float a float; a string a str. */
bool lm_dropval_fits(const struct lm_dropval *v, enum lm_kind k);
/* "integer", "float" or "string", for messages. */
const char *lm_dropval_class(enum lm_dropval_kind k);

enum lm_drop_kind {
	LM_DROP_ALL,    /* `*` */
	LM_DROP_METHOD, /* `M` or `M(*)` */
	LM_DROP_KEY,    /* `M(a, b, ...)`: one value per key parameter */
};

struct lm_drop {
	enum lm_drop_kind kind;
	int method;              /* index into lm_config.methods (a cached method) */
	struct lm_dropval *vals; /* LM_DROP_KEY: one per key param, in order */
	size_t nvals;
	struct lm_pos pos;
};

/* ---- [type] (3.6) ------------------------------------------------------- */

struct lm_field {
	char *name;
	enum lm_kind kind; /* ints, floats, PTR, STR, STRV, BYTES, STRUCT, STRUCT_PTR */
	size_t nbytes;     /* LM_K_BYTES */
	int type;          /* LM_K_STRUCT, LM_K_STRUCT_PTR: index into lm_config.types */
	size_t offset;     /* System V layout */
	struct lm_pos pos;
};

struct lm_type {
	char *name;
	struct lm_field *fields;
	size_t nfields;
	size_t size, align;
	bool has_pointers; /* any str, strv, ptr, TYPE* (directly or nested) */
	bool broken;       /* an error in this section: methods using it are broken too */
	struct lm_pos pos;
};

/* ---- Sections ----------------------------------------------------------- */

enum lm_hook_kind { LM_HOOK_AUTO, LM_HOOK_DETOUR, LM_HOOK_GOT };
enum lm_mode { LM_MODE_CACHE, LM_MODE_VERIFY };
enum lm_tristate { LM_UNSET = -1, LM_OFF = 0, LM_ON = 1 };

struct lm_method {
	char *name;       /* the symbol, without a version */
	char *version;    /* "GLIBC_2.33" for stat@GLIBC_2.33, else NULL */
	bool invalidator; /* [invalidate] rather than [cache] */
	bool broken;      /* an error in this section: leave it unhooked */
	struct lm_sig sig;
	int64_t ttl_ms;            /* LM_DUR_UNSET: [global] ttl */
	int64_t negative_ttl_ms;   /* default 0 */
	int64_t stale_if_error_ms; /* default 0 */
	struct lm_expr *when;      /* NULL: always */
	char *object;              /* NULL: search every object */
	enum lm_hook_kind hook;    /* default: [global] hook */
	bool hook_set;
	enum lm_tristate coalesce; /* LM_UNSET: [global] coalesce */
	enum lm_tristate adaptive; /* LM_UNSET: [global] adaptive */
	uint64_t max_entries;      /* with max_entries_set: the method's bound (0:
	                              nothing stored, as in [global]) */
	bool max_entries_set;
	enum lm_mode mode;
	struct lm_drop *drops; /* [invalidate] only */
	size_t ndrops;
	struct lm_pos pos; /* the section header */
};

enum lm_backend_kind { LM_BACKEND_LOCAL, LM_BACKEND_REDIS, LM_BACKEND_MEMCACHED };

struct lm_hostport {
	char *host;
	int port;
};

struct lm_backend {
	enum lm_backend_kind kind;
	char *url;                 /* as written */
	char *password;            /* redis */
	char *unix_path;           /* redis unix:PATH */
	int db;                    /* redis /DB */
	struct lm_hostport *hosts; /* redis: one; memcached: one or more */
	size_t nhosts;
};

enum lm_stats_format { LM_FMT_TEXT, LM_FMT_JSON, LM_FMT_PROM };

struct lm_global {
	int64_t ttl_ms;       /* default 5m */
	uint64_t max_entries; /* default LM_DEFAULT_MAX_ENTRIES */
	uint64_t max_memory;  /* bytes, default LM_DEFAULT_MAX_MEMORY */
	struct lm_backend backend;
	char *namespace_;         /* NULL: program base name */
	int64_t l1_ttl_ms;        /* default 1s */
	int64_t redis_timeout_ms; /* default 50ms */
	char **programs;          /* NULL-terminated base-name globs; NULL: all */
	size_t nprograms;
	enum lm_hook_kind hook; /* default auto */
	bool coalesce;          /* default on */
	bool adaptive;          /* default on: bypass methods that do not pay */
	char *persist;          /* NULL: off */
	bool control;
	char *stats; /* NULL: unset */
	enum lm_stats_format stats_format;
	bool stats_format_set;
	int stats_signal;       /* 0: unset */
	bool shared_host;       /* shared = host: the host-wide tier (spec 11) */
	uint64_t shared_memory; /* bytes, default LM_DEFAULT_SHARED_MEMORY */
	struct lm_pos pos;
};

/* names.c: name -> index, so that a lookup by name does not scan every
 * section. The names are not owned (they point into what was indexed). */
struct lm_name_slot {
	const char *s; /* NULL: empty */
	size_t n;
	uint64_t hash;
	int idx;
};

struct lm_names {
	struct lm_name_slot *slots;
	size_t cap, n; /* cap: a power of two, or 0 */
};

/* Enter S (N bytes) as IDX unless it is there: the index it has (IDX when
 * entered now), or -1 when out of memory. */
int lm_names_put(struct lm_names *t, const char *s, size_t n, int idx);
/* The index of S, or -1. */
int lm_names_find(const struct lm_names *t, const char *s, size_t n);
void lm_names_free(struct lm_names *t);
/* Test hook: names compared so far by the table (probes into occupied
 * slots), so that a test can check that parsing stays linear. */
extern size_t lm_names_compares;

struct lm_config {
	char *file; /* path as given */
	struct lm_global global;
	struct lm_type *types;
	size_t ntypes;
	struct lm_method *methods; /* [cache] and [invalidate], in file order */
	size_t nmethods;
	/* Filled by the parser; a config built by hand has none and is scanned. */
	struct lm_names type_names, method_names;
};

/* ---- Diagnostics -------------------------------------------------------- */

struct lm_diag {
	struct lm_pos pos;
	bool warning;
	char *msg; /* without FILE:LINE:COL: prefix */
};

struct lm_diags {
	struct lm_diag *v;
	size_t n, cap;
};

/* ---- Entry points ------------------------------------------------------- */

/* Parse LEN bytes of TEXT (NUL bytes allowed, reported as errors) named FILE.
 * Always fills OUT with what could be understood (defaults elsewhere) and
 * appends every problem to DIAGS. Returns the number of errors (not
 * warnings); -1 only on out-of-memory. */
int lm_config_parse(const char *text, size_t len, const char *file, struct lm_config *out,
                    struct lm_diags *diags);

/* Read PATH and parse it. A file that cannot be read is one error at 0:0. */
int lm_config_load(const char *path, struct lm_config *out, struct lm_diags *diags);
/* The same from FD, opened on PATH (named in messages); closes FD. */
int lm_config_load_fd(int fd, const char *path, struct lm_config *out, struct lm_diags *diags);

void lm_config_free(struct lm_config *cfg);
void lm_diags_free(struct lm_diags *d);

/* "FILE:LINE:COL: error: MESSAGE" into BUF (truncated to LEN). */
int lm_diag_format(const struct lm_config *cfg, const struct lm_diag *d, char *buf, size_t len);

/* Lookups used by the shim and the command. -1 when absent. */
int lm_config_find_method(const struct lm_config *cfg, const char *name);
int lm_config_find_type(const struct lm_config *cfg, const char *name);

/* Effective per-method settings, [global] applied. */
int64_t lm_method_ttl_ms(const struct lm_config *cfg, const struct lm_method *m);
bool lm_method_coalesce(const struct lm_config *cfg, const struct lm_method *m);
/* May the method stop being cached when caching does not pay (adaptive)? */
bool lm_method_adaptive(const struct lm_config *cfg, const struct lm_method *m);
enum lm_hook_kind lm_method_hook(const struct lm_config *cfg, const struct lm_method *m);
/* "FILE:LINE: " of M's section header, for messages about it, into BUF
 * (a longer path is cut); "" for a config not read
 * from a file. Returns BUF. */
#define LM_WHERE_MAX 512
const char *lm_method_where(const struct lm_config *cfg, const struct lm_method *m, char *buf,
                            size_t len);

/* True when param I enters the key (everything but `ignore`; an `out`
 * enters only by its NULL-ness). */
bool lm_param_in_key(const struct lm_param *p);
/* A key parameter in the sense of drops (spec 3.5), which a drop value or
 * an `ldmemo ctl invalidate` argument names: neither `ignore` nor `out`. */
bool lm_param_is_drop_key(const struct lm_param *p);

/* Parsers for single values, shared with the environment and the command
 * line. Return 0 on success, -1 on a malformed value. */
int lm_parse_duration(const char *s, int64_t *ms);
int lm_parse_size(const char *s, uint64_t *bytes);
int lm_parse_bool(const char *s, bool *b);
int lm_parse_stats_format(const char *s, enum lm_stats_format *f);
int lm_parse_signal(const char *s, int *signo); /* USR2, SIGUSR2, 12 */
int lm_parse_stats_dest(const char *s);         /* stderr, fd:N, a path */
int lm_parse_backend(const char *s, struct lm_backend *b);
void lm_backend_free(struct lm_backend *b);
/* Shell-style glob match of a program base name against the programs list. */
bool lm_programs_match(const struct lm_global *g, const char *base_name);

#endif
