/* The compiled form of a signature, shared by the files that implement
 * shim/plan/plan.h (plan.c, key.c, value.c, deepcopy.c, when.c, drop_plan.c,
 * static_copy.c). Nothing here is visible outside the shim. */
#ifndef LM_PLAN_INTERNAL_H
#define LM_PLAN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "plan.h"

/* The largest buf/out/return block a key or value may hold: beyond it the
 * call runs uncached rather than copying megabytes on every call. */
#define LM_PLAN_MAX_BYTES (1u << 20)
/* Deep copies: TYPE* nesting depth (cycles in the data) and total size. */
#define LM_PLAN_MAX_DEPTH 16
#define LM_PLAN_MAX_DEEP  (16u << 20)
/* A drop enumerates every NULL/non-NULL combination of the target's out
 * params up to this many; beyond, it falls back to a pattern. */
#define LM_DROP_MAX_OUTS 8

#define lm_likely(x)   __builtin_expect(!!(x), 1)
#define lm_unlikely(x) __builtin_expect(!!(x), 0)

/* Where an argument lives: a byte offset into struct lm_frame (registers)
 * or a slot of the caller's stack arguments. */
struct lm_loc {
	uint32_t off;
	bool stack;
};

static inline uint64_t lm_loc_read(const struct lm_frame *f, const struct lm_loc *l)
{
	uint64_t v;

	if (l->stack)
		return f->stack_args[l->off];
	memcpy(&v, (const unsigned char *)f + l->off, sizeof(v));
	return v;
}

/* An argument or return register that holds a pointer. */
static inline void *lm_word_ptr(uint64_t v)
{
	return (void *)(uintptr_t)v; // NOLINT(performance-no-int-to-ptr): registers hold pointers
}

/* A SIZE with TYPE already turned into its byte count (LM_SZ_LIT). */
struct lm_psize {
	enum lm_size_kind kind;
	size_t lit;
	int param;
};

struct lm_pparam {
	enum lm_kind kind;
	uint8_t width; /* integers and floats; 8 for pointers */
	bool is_signed;
	struct lm_loc loc;
	struct lm_psize size; /* buf, out */
};

/* One key step per parameter that enters the key, in order. */
enum lm_kstep_op {
	LM_KS_RAW, /* WIDTH low bytes of the argument word */
	LM_KS_OUT, /* one byte: 0 NULL, 1 not */
	LM_KS_STR, /* tag 0 (NULL) | tag 1, u32 length, bytes */
	LM_KS_BUF, /* tag 0 (NULL) | tag 1, u32 length, bytes */
};

struct lm_kstep {
	uint8_t op;
	uint8_t width;
	uint16_t param; /* index into lm_plan.params */
	struct lm_loc loc;
};

struct lm_pfield {
	enum lm_kind kind;
	uint8_t width;
	size_t nbytes; /* LM_K_BYTES */
	int type;      /* STRUCT, STRUCT_PTR: index into lm_plan.types */
	size_t offset;
};

struct lm_ptype {
	size_t size;
	struct lm_pfield *fields;
	size_t nfields;
	bool has_ptr; /* a `ptr` field, directly or through nested types */
};

struct lm_plan {
	uint32_t id;
	char *name;
	struct lm_pparam *params;
	size_t nparams;
	struct lm_kstep *ksteps;
	size_t nksteps;
	size_t key_fixed; /* bytes every key has whatever the arguments */
	struct lm_ret ret;
	struct lm_psize ret_size;    /* LM_RET_BUF, LM_RET_STATIC_BUF */
	struct lm_loc ret_param_loc; /* LM_RET_PARAM */
	uint8_t ret_width;           /* LM_RET_VALUE */
	bool ret_float, ret_signed;
	uint16_t *outs; /* indices of out params, in order */
	size_t nouts;
	struct lm_ptype *types; /* the types a `static TYPE*` result reaches, root first */
	size_t ntypes;
	struct lm_expr *when;
	uint64_t stack_bytes;
	bool local_only;
	uint64_t fingerprint;
};

/* The register bytes a kind occupies: its width, and a full register for
 * pointers and strings. */
static inline uint8_t lm_pk_width(enum lm_kind k)
{
	size_t w = lm_kind_width(k);
	return w ? (uint8_t)w : 8;
}

/* The argument word V of an integer of width W as a 64-bit value,
 * sign-extended when SIGNED. */
static inline uint64_t lm_int_extend(uint64_t v, unsigned w, bool is_signed)
{
	unsigned sh = 64 - 8 * w;

	if (w >= 8)
		return v;
	return is_signed ? (uint64_t)((int64_t)(v << sh) >> sh) : (v << sh) >> sh;
}

/* memcmp(A, B, N) == 0 a word at a time, with no call: what lm_thunk's
 * quick path runs (quick.c) may use no vector register, and libc's
 * memcmp does. Two words a round, their differences or-ed: the bytes
 * are nearly always equal. The tail is the last word, overlapping. */
static inline bool lm_same_bytes(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	uint64_t d = 0, u, v;
	size_t i = 0;

	if (n < 8) {
		for (; i < n; i++)
			d |= (uint64_t)(x[i] ^ y[i]);
		return d == 0;
	}
	for (; i + 16 <= n; i += 16) {
		uint64_t u1, v1;
		__builtin_memcpy(&u, x + i, 8);
		__builtin_memcpy(&v, y + i, 8);
		__builtin_memcpy(&u1, x + i + 8, 8);
		__builtin_memcpy(&v1, y + i + 8, 8);
		if ((u ^ v) | (u1 ^ v1))
			return false;
	}
	for (; i + 8 <= n; i += 8) {
		__builtin_memcpy(&u, x + i, 8);
		__builtin_memcpy(&v, y + i, 8);
		d |= u ^ v;
	}
	if (i < n) {
		__builtin_memcpy(&u, x + n - 8, 8);
		__builtin_memcpy(&v, y + n - 8, 8);
		d |= u ^ v;
	}
	return d == 0;
}

/* Byte count of SIZE at the call in F: -1 when negative or above the cap.
 * RET and STR sizes are resolved by the caller. */
static inline int64_t lm_size_at(const struct lm_plan *p, const struct lm_psize *s,
                                 const struct lm_frame *f)
{
	const struct lm_pparam *q;
	uint64_t v;

	if (s->kind == LM_SZ_LIT)
		return s->lit <= LM_PLAN_MAX_BYTES ? (int64_t)s->lit : -1;
	q = &p->params[s->param];
	v = lm_int_extend(lm_loc_read(f, &q->loc), q->width, q->is_signed);
	if (q->is_signed && (int64_t)v < 0)
		return -1;
	return v <= LM_PLAN_MAX_BYTES ? (int64_t)v : -1;
}

/* A bounds-checked reader over bytes that may come from anywhere. */
struct lm_rd {
	const unsigned char *p;
	size_t n;
};

static inline bool lm_rd_bytes(struct lm_rd *r, size_t n, const unsigned char **out)
{
	if (n > r->n)
		return false;
	*out = r->p;
	r->p += n;
	r->n -= n;
	return true;
}

static inline bool lm_rd_u8(struct lm_rd *r, uint8_t *v)
{
	if (r->n < 1)
		return false;
	*v = *r->p++;
	r->n--;
	return true;
}

static inline bool lm_rd_u32(struct lm_rd *r, uint32_t *v)
{
	if (r->n < 4)
		return false;
	memcpy(v, r->p, 4);
	r->p += 4;
	r->n -= 4;
	return true;
}

static inline bool lm_rd_u64(struct lm_rd *r, uint64_t *v)
{
	if (r->n < 8)
		return false;
	memcpy(v, r->p, 8);
	r->p += 8;
	r->n -= 8;
	return true;
}

/* Append a tag 1, a u32 length and N bytes. -1 on OOM or N >= 4 GiB. */
int lm_buf_put_blob(struct lm_buf *b, const void *p, size_t n);

/* Key steps: the extent of step S's encoding at the start of R (advanced
 * past it); false when the key is malformed. */
bool lm_key_step_skip(const struct lm_kstep *s, struct lm_rd *r);

/* Struct deep copies (deepcopy.c). Flatten the struct at OBJ of plan type
 * T into OUT: -1 on OOM, on a data cycle deeper than LM_PLAN_MAX_DEPTH or
 * above LM_PLAN_MAX_DEEP bytes (OUT then keeps its length). */
int lm_deep_flatten(const struct lm_plan *p, int t, const void *obj, struct lm_buf *out);
/* Read one flattened struct from R: with ARENA NULL validate it and set
 * *NEED to the bytes its rebuild takes; else rebuild it into ARENA, which
 * has *NEED bytes (from the validating pass over the same bytes). */
int lm_deep_rebuild(const struct lm_plan *p, int t, struct lm_rd *r, unsigned char *arena,
                    size_t *need);

/* The calling thread's buffer for static results of plan ID, with room for
 * N bytes; valid until the next call for the same ID on this thread. NULL
 * on OOM. errno is preserved. */
void *lm_static_buf(uint32_t id, size_t n);
/* The replay wrote the first N bytes of that buffer: keep a copy of them
 * (none on OOM: the buffer is then never reused). */
void lm_static_built(uint32_t id, size_t n);
/* The generation of ID's buffer when it holds built bytes, else 0. */
uint64_t lm_static_gen(uint32_t id);

#endif
