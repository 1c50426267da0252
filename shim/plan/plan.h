/* A method's signature compiled once at start-up into what the call path
 * needs: where each argument lives in the saved registers or on the stack,
 * how it enters the key, how a result is captured into a value blob after a
 * miss and replayed from one on a hit. Nothing on the call path parses. */
#ifndef LM_PLAN_H
#define LM_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "shim/base/buf.h"
#include "shim/arch/x86_64/frame.h"

struct lm_plan;

/* Compile method M of CFG. ID is the method's index, used for per-thread
 * static result copies. NULL with a reason in WHY when the signature
 * cannot be served (should not happen for a config that parsed). */
struct lm_plan *lm_plan_compile(const struct lm_config *cfg, const struct lm_method *m, uint32_t id,
                                char *why, size_t whylen);
void lm_plan_free(struct lm_plan *p);

/* Stack-passed argument bytes the thunk must copy, rounded up to 16. */
uint64_t lm_plan_stack_bytes(const struct lm_plan *p);
/* True when a parameter or the return is a `ptr` (or ptr(NAME), or a type
 * with ptr fields): such results mean nothing in another process, so they
 * stay out of shared backends and persisted files. */
bool lm_plan_local_only(const struct lm_plan *p);
/* A fingerprint of the signature and the layouts it uses, so that a value
 * written for another signature is never read as ours. */
uint64_t lm_plan_fingerprint(const struct lm_plan *p);

/* Append the key of the call in F to OUT. Integers by their own width,
 * floats by bit pattern, str/buf by content with NULL distinct from every
 * content, ptr by address, an out param by its NULL-ness, ignore not at
 * all. The encoding is unambiguous: two calls have equal keys iff they have
 * equal key arguments. Reads caller memory (str, buf). 0, or -1 on OOM. */
int lm_plan_key(const struct lm_plan *p, const struct lm_frame *f, struct lm_buf *out);

/* Is KEY (as lm_plan_key encodes it) the key of the call in F? Compares
 * without building the call's key. Reads caller memory (str, buf). */
bool lm_plan_key_equals(const struct lm_plan *p, const struct lm_frame *f, const void *key,
                        uint32_t klen);

/* lm_plan_key_equals for lm_thunk's quick path (shim/call/quick.c), using
 * no vector register: 1 equal, 0 not, -1 a key it does not read (one str,
 * buf of a literal size or integer in an argument register only). */
int lm_plan_quick_key_equals(const struct lm_plan *p, const struct lm_frame *f, const void *key,
                             uint32_t klen);

/* A key that is one argument register's word, which the quick path of a
 * static result compares with a record's word instead of its key bytes:
 * the register's integer (LM_QW_RAW), or the bytes of a buf of a literal
 * size it points to (LM_QW_BUF; a NULL pointer has no word). Widths are 1,
 * 2, 4 or 8; OFF is the register's offset in struct lm_frame. */
enum lm_qword_kind { LM_QW_NONE, LM_QW_RAW, LM_QW_BUF };
struct lm_qword {
	uint8_t kind;
	uint8_t width;
	uint16_t off;
};
/* P's word key, kind LM_QW_NONE when its key is not one. */
struct lm_qword lm_plan_quick_word(const struct lm_plan *p);
/* The word of KEY (as lm_plan_key encodes it) of such a P into *W; false
 * when it has none (a NULL buf). Two keys of P with words are equal when
 * their words are. */
bool lm_plan_quick_word_of(const struct lm_plan *p, const void *key, uint32_t klen, uint64_t *w);

/* The front-cache hit in lm_thunk's quick path (shim/call/quick.c), by
 * code that uses no vector register. lm_plan_quick_front: P's calls have
 * keys of integers, out tags and strs in argument registers, and an
 * integer (or no) result with out params of literal sizes, so the next
 * two serve them. lm_plan_quick_key: the call's key as lm_plan_key
 * encodes it, as the little-endian words W[0..NWORDS) (zero past its
 * end; the last word is slack): its length, or -1 when it does not fit. lm_plan_quick_replay:
 * lm_plan_replay of VAL for such a P; -1 (nothing written) when VAL does not fit the call. */
bool lm_plan_quick_front(const struct lm_plan *p);
int64_t lm_plan_quick_key(const struct lm_plan *p, const struct lm_frame *f, uint64_t *w,
                          uint32_t nwords);
int lm_plan_quick_replay(const struct lm_plan *p, const void *val, uint32_t len, struct lm_frame *f,
                         int *err);

/* When the key is at most two argument registers taken raw (integers,
 * floats, pointers), set their offsets in struct lm_frame and their widths
 * and return how many (0 to 2); else -1. Such keys the fast thunk builds
 * itself. */
int lm_plan_register_key(const struct lm_plan *p, uint32_t off[2], uint8_t width[2]);

/* After the original returned (ret_* in F filled, ERR its errno): append
 * the value blob (return value and what it points to, out bytes, errno) to
 * OUT. 0, or -1 on OOM. */
int lm_plan_capture(const struct lm_plan *p, const struct lm_frame *f, int err, struct lm_buf *out);

/* On a hit: write the out bytes back through the caller's pointers, fill
 * ret_* in F (str/buf: a fresh malloc copy; static: the thread's copy for
 * this method), and set *ERR to the stored errno. 0, or -1 when the blob is
 * malformed or a copy cannot be allocated (the caller then runs the
 * function instead). */
int lm_plan_replay(const struct lm_plan *p, const void *val, size_t len, struct lm_frame *f,
                   int *err);

/* Static results (static str, static buf, static TYPE*) without out
 * params: a hit on the key whose result this thread's static buffer
 * already holds may return that buffer without a rebuild. Its built bytes
 * are written again from a copy first: libc's next call rewrites its
 * buffer too, so what the caller wrote into it since is undone. */
bool lm_plan_static_result(const struct lm_plan *p);
/* After lm_plan_replay returned a non-NULL static result: the generation
 * of the buffer it built (0: it cannot be reused). Any later replay for P
 * on this thread moves the generation. */
uint64_t lm_plan_static_gen(const struct lm_plan *p);
/* This thread's static buffer for P if it is still at generation GEN (no
 * other replay for P since), its bytes written again as that replay built
 * them; else NULL. Uses no vector register (quick.c). */
void *lm_plan_static_reuse(const struct lm_plan *p, uint64_t gen);

/* static_copy.c's per-thread buffers, one per method id: here so that
 * lm_plan_static_restore, which lm_thunk's first step runs, calls nothing. */
struct lm_static_slot {
	void *p;
	size_t cap;
	uint64_t gen;   /* 0: never handed out */
	size_t built;   /* bytes of p the last replay wrote; 0: none known */
	void *pristine; /* a copy of them, as written */
	size_t pcap;
};
struct lm_static_slots {
	uint32_t n;
	struct lm_static_slot v[];
};
extern __thread struct lm_static_slots *lm_static_tls;

/* memcpy(D, S, N) a word at a time, with no call (lm_thunk's first
 * step calls nothing, and libc's memcpy uses vector registers). The tail
 * is the last word, overlapping. */
static inline void lm_copy_words(void *d, const void *s, size_t n)
{
	unsigned char *x = d;
	const unsigned char *y = s;
	uint64_t u, v;
	size_t i = 0;

	if (n < 8) {
		for (; i < n; i++)
			x[i] = y[i];
		return;
	}
	for (; i + 16 <= n; i += 16) {
		__builtin_memcpy(&u, y + i, 8);
		__builtin_memcpy(&v, y + i + 8, 8);
		__builtin_memcpy(x + i, &u, 8);
		__builtin_memcpy(x + i + 8, &v, 8);
	}
	if (i + 8 <= n) {
		__builtin_memcpy(&u, y + i, 8);
		__builtin_memcpy(x + i, &u, 8);
		i += 8;
	}
	if (i < n) {
		__builtin_memcpy(&u, y + n - 8, 8);
		__builtin_memcpy(x + n - 8, &u, 8);
	}
}

/* lm_plan_static_reuse by the plan's id (the method's), inline: this
 * thread's buffer ID, its built bytes written again from the copy kept
 * when they were built, if it is still at generation GEN; else NULL. */
static inline void *lm_plan_static_restore(uint32_t id, uint64_t gen)
{
	const struct lm_static_slots *s = lm_static_tls;
	if (!s || id >= s->n)
		return NULL;
	const struct lm_static_slot *sl = &s->v[id];
	if (sl->gen != gen || !sl->built)
		return NULL;
	lm_copy_words(sl->p, sl->pristine, sl->built);
	return sl->p;
}

/* The common case, a scalar result and no out params, has a fixed blob:
 * errno (4 bytes, only when not 0), then the return register (8 bytes;
 * none for void). lm_plan_scalar says which register: */
enum lm_scalar { LM_SCALAR_NO, LM_SCALAR_INT, LM_SCALAR_FLOAT, LM_SCALAR_VOID };
enum lm_scalar lm_plan_scalar(const struct lm_plan *p);

/* lm_plan_replay for such a method, inline for the hit path. */
static inline int lm_scalar_replay(enum lm_scalar k, const void *val, size_t len,
                                   struct lm_frame *f, int *err)
{
	size_t word = k == LM_SCALAR_VOID ? 0 : 8;
	if ((len != word && len != word + 4) || (len && !val))
		return -1;
	int32_t e = 0;
	if (len > word)
		__builtin_memcpy(&e, val, 4);
	const unsigned char *reg = (const unsigned char *)val + (len - word);
	if (k == LM_SCALAR_INT) {
		__builtin_memcpy(&f->ret_rax, reg, 8);
	} else if (k == LM_SCALAR_FLOAT) {
		__builtin_memcpy(&f->ret_xmm0[0], reg, 8);
		f->ret_xmm0[1] = 0;
	}
	*err = e;
	return 0;
}

/* The other key the fast thunk builds: one argument register taken raw,
 * then one out param of a literal size, a multiple of 8 up to
 * LM_PLAN_FAST_OUT_MAX bytes, in a register, and an integer result or
 * none (`int get(long id, out(64) buf)`): LM_SCALAR_INT or _VOID with the
 * key's and the out pointer's frame offsets, the key's width and the out
 * size; else LM_SCALAR_NO. The dispatcher's key is the register and the
 * out's NULL tag: a call with a NULL out is not one the thunk answers. */
#define LM_PLAN_FAST_OUT_MAX 64
enum lm_scalar lm_plan_register_out(const struct lm_plan *p, uint32_t *key_off, uint8_t *key_width,
                                    uint32_t *out_off, uint32_t *out_len);

/* The string key the fast thunk hashes itself: one `str` argument in a
 * register and a scalar result (`long h(str s)`): lm_plan_scalar's answer
 * with the argument's frame offset; LM_SCALAR_NO for any other key. */
enum lm_scalar lm_plan_register_str(const struct lm_plan *p, uint32_t *off);

/* Verify mode: do two value blobs describe the same result? */
bool lm_plan_same_value(const struct lm_plan *p, const void *a, size_t alen, const void *b,
                        size_t blen);

/* `when` on the result in F with errno ERR (true when the method has none). */
bool lm_plan_when(const struct lm_plan *p, const struct lm_frame *f, int err);

/* A printable rendering of a key ("get_user(42, \"bob\")") for logs. */
size_t lm_plan_key_describe(const struct lm_plan *p, const void *key, size_t klen, char *buf,
                            size_t len);

/* The first parameter declared str, buf or out whose argument in F is no
 * pointer that could be read (in the first page, not user space, not
 * mapped), or an out that could not be written, with WHY; -1 when all are
 * plausible. Makes system calls: for
 * the first calls of a method only. */
int lm_plan_bad_pointer(const struct lm_plan *p, const struct lm_frame *f, const char **why);
/* Has the signature a str, buf or out parameter? */
bool lm_plan_has_pointer_args(const struct lm_plan *p);

/* ---- Drops: from a write function's call to a target's keys ------------- */

/* A drop target resolved against one call of the write function W (frame
 * WF): either a set of exact keys of the target T, or a pattern with `*`
 * holes matched against every key of T. LM_DROP_METHOD and LM_DROP_ALL
 * compile too (T may be NULL for ALL): their pattern matches every key.
 * W and T must outlive the drop plan. */
struct lm_drop_plan;
struct lm_drop_plan *lm_drop_plan_compile(const struct lm_plan *w, const struct lm_plan *t,
                                          const struct lm_drop *d, char *why, size_t whylen);
void lm_drop_plan_free(struct lm_drop_plan *dp);

/* Call EXACT for every exact key the drop names at this call (an out param
 * of T enters keys by NULL-ness, so one drop may name two keys) and return
 * 1; or return 0 when the drop has `*` values, and then build in PATTERN
 * what lm_drop_plan_matches needs (appended past PATTERN's length; exact
 * keys are built there too, and PATTERN keeps its length). -1 on OOM. */
typedef void (*lm_key_cb)(const void *key, uint32_t klen, void *arg);
int lm_drop_plan_keys(const struct lm_drop_plan *dp, const struct lm_frame *wf, lm_key_cb exact,
                      void *arg, struct lm_buf *pattern);
/* Does KEY of T match PATTERN from lm_drop_plan_keys? */
bool lm_drop_plan_matches(const struct lm_drop_plan *dp, const void *pattern, size_t plen,
                          const void *key, uint32_t klen);

#endif
