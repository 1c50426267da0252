/* The fast path: a method whose key is at most two argument registers and
 * whose result is one register, or whose key is one register and whose
 * result an integer with one out buffer of up to 64 bytes
 * (lm_plan_register_out), or whose key is one string of up to 64 bytes
 * and whose result is one register (lm_plan_register_str), enters
 * through a fast thunk (thunk_fast.S),
 * which answers a hit from this thread's fast table without saving the
 * caller's registers or calling into C. Everything
 * else (a miss, an expired or dropped copy, a first call on a thread) goes
 * on to lm_thunk and the dispatcher, which fills the table.
 *
 * Copies follow the front cache's rule (front.h): valid while the method's
 * copy epoch still holds the value read before the lookup that produced
 * them, and until their expiry. */
#ifndef LM_FAST_H
#define LM_FAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "shim/arch/x86_64/fast_abi.h"
#include "shim/arch/x86_64/frame.h"
#include "shim/plan/plan.h"

struct lm_fast_slot {
	const struct lm_hook_head *head;
	uint64_t k[2];
	uint64_t value;
	uint64_t epoch;
	int64_t expires_ms;
	int32_t err;
	uint64_t *hits;
} __attribute__((aligned(LM_FS_SIZE)));

_Static_assert(offsetof(struct lm_fast_slot, head) == LM_FS_HEAD, "fast_abi.h");
_Static_assert(offsetof(struct lm_fast_slot, k) == LM_FS_K0, "fast_abi.h");
_Static_assert(offsetof(struct lm_fast_slot, k[1]) == LM_FS_K1, "fast_abi.h");
_Static_assert(offsetof(struct lm_fast_slot, value) == LM_FS_VALUE, "fast_abi.h");
_Static_assert(offsetof(struct lm_fast_slot, epoch) == LM_FS_EPOCH, "fast_abi.h");
_Static_assert(offsetof(struct lm_fast_slot, expires_ms) == LM_FS_EXPIRES, "fast_abi.h");
_Static_assert(offsetof(struct lm_fast_slot, err) == LM_FS_ERR, "fast_abi.h");
_Static_assert(offsetof(struct lm_fast_slot, hits) == LM_FS_HITS, "fast_abi.h");
_Static_assert(sizeof(struct lm_fast_slot) == LM_FS_SIZE, "fast_abi.h");

/* A table of 2^set_bits sets, each two slots. Only its thread reads or
 * changes it; it grows (fast.c) only outside the thunk's lookup. */
struct lm_fast_table {
	/* 1 while the thunk reads a slot; LM_FAST_SKIPPING while the table
	 * is set aside (fast.c): the thunk goes to lm_thunk on either */
	uint32_t busy;
	uint32_t set_bits; /* fast.c's, as are the fields past mask */
	uint64_t mask[2];  /* the thunk's: sets - 1, (sets - 1) << 7 */
	/* evictions of copies still valid since the table was made */
	uint64_t evicted;
	/* The bytes the slot at S keeps (an out buffer's, a string key's) are
	 * at S + blob, in an array of one 64-byte block per slot made at the
	 * first copy of such a method; 0 until then. */
	intptr_t blob;
	/* A table at the maximum size judges itself by windows of the
	 * results it did not answer (fast.c): those this window, and the
	 * thread's calls when it began; store hits since one was kept. */
	uint64_t passes;
	uint64_t calls0;
	uint32_t tick;
	struct lm_fast_slot slot[] __attribute__((aligned(LM_FS_SIZE)));
};
_Static_assert(offsetof(struct lm_fast_table, busy) == LM_FT_BUSY, "fast_abi.h");
_Static_assert(offsetof(struct lm_fast_table, mask) == LM_FT_MASK0, "fast_abi.h");
_Static_assert(offsetof(struct lm_fast_table, mask[1]) == LM_FT_MASK1, "fast_abi.h");
_Static_assert(offsetof(struct lm_fast_table, blob) == LM_FT_BLOB, "fast_abi.h");
_Static_assert(offsetof(struct lm_fast_table, slot) == LM_FT_SLOTS, "fast_abi.h");
_Static_assert(sizeof(struct lm_fast_table) == LM_FT_SLOTS, "the header is one line");
/* The thunk takes both set numbers from the hash, scaled to a set's 128
 * bytes (a shift by 7), from one 64-bit product. */
_Static_assert(2 * LM_FS_SIZE == 1 << 7 && 2 * LM_FAST_MAX_SET_BITS + 7 <= 64, "fast_abi.h");
_Static_assert(LM_FAST_SET_BITS <= LM_FAST_MAX_SET_BITS &&
                   (LM_FAST_MAX_SET_BITS - LM_FAST_SET_BITS) % LM_FAST_GROW_BITS == 0,
               "growth ends at the maximum");

/* Bytes of a table of 2^SET_BITS sets. */
static inline size_t lm_fast_table_bytes(unsigned set_bits)
{
	return sizeof(struct lm_fast_table) + ((size_t)2 << set_bits) * LM_FS_SIZE;
}

enum lm_fast_ret {
	LM_FAST_VOID = LM_FAST_RET_VOID,
	LM_FAST_INT = LM_FAST_RET_INT,
	LM_FAST_FLOAT = LM_FAST_RET_FLOAT,
};

/* The busy word of a table set aside: the working set outgrew even the
 * largest table, whose probes then missed at a cache miss each. */
#define LM_FAST_SKIPPING 2

/* This thread's table, NULL until its first fill. */
extern __thread struct lm_fast_table *lm_fast_table;

/* True while this thread is inside a fast thunk's lookup: a call that
 * interrupts it (from a signal handler) runs uncached, as one that
 * interrupts the shim does, and so cannot change the slot being read. */
static inline bool lm_fast_busy(void)
{
	const struct lm_fast_table *t = lm_fast_table;
	return t && __atomic_load_n(&t->busy, __ATOMIC_RELAXED) == 1;
}

/* Once, at start-up: what the fast thunks need of the process (errno's
 * place, the vDSO clock). */
void lm_fast_init(void);

/* The fast thunk for method ID with plan P, its descriptor filled into D
 * (its gate open: the caller points it at the method's pending argument
 * checks);
 * NULL when the method's key or result does not fit one, or when its
 * copies EXPIRE and there is no vDSO clock for the thunk to read. EPOCH is
 * the method's lm_store_copy_epoch. */
typedef void (*lm_fast_entry_fn)(void);
lm_fast_entry_fn lm_fast_prepare(const struct lm_plan *p, uint32_t id, const uint64_t *epoch,
                                 bool expires, struct lm_fast_desc *d);

/* Keep a copy of the result in F (ret_* filled, arguments as at entry)
 * with errno ERR, for the method whose hook head is H, seen by a lookup or
 * fill that began after its copy epoch read EPOCH. EXPIRES_MS: LM_DUR_NEVER
 * for none. STORED: the result is a store hit's (a table at the maximum
 * size keeps one in LM_FAST_COPY_EVERY of those). Called for each result
 * the table did not answer: the table judges itself by them (fast.c). The
 * thread's table is allocated here, never on a hit. */
void lm_fast_put(const struct lm_hook_head *h, const struct lm_frame *f, int err,
                 int64_t expires_ms, uint64_t epoch, bool stored);

/* Before a copy that expires at EXPIRES_MS is kept where a hit reads the
 * kernel's clock words (the fast table, the static records): the words
 * must still be the clock, else an expiry could be read against a time
 * that no longer moves; when they are not, hits stop reading them. */
void lm_fast_clock_check(int64_t expires_ms);

/* Replace this thread's table by one LM_FAST_GROW_BITS larger, its valid
 * copies moved over; false when it is at the maximum already (or there is
 * no memory, or no table). lm_fast_put calls it when the thread's working
 * set outgrows the table; the tests, to reach each size. */
bool lm_fast_grow(void);

/* The slot hash, as the thunk computes it for a table of 2^SET_BITS sets:
 * the first slots of the key's two sets (which may be the same). A
 * product's bit depends only on the key bits at and below it, and a small
 * table's set numbers come from bits 48-57 and 32-41: the first word's
 * high half is folded into its low one first, else keys that differ only
 * there (doubles: 0.25 + k, k < 1,000) crowded a few second sets, and a
 * loop over 1,000 of them pushed out copies every round until its thread's
 * table grew. */
static inline void lm_fast_sets(const struct lm_fast_desc *d, unsigned set_bits, uint64_t k0,
                                uint64_t k1, uint32_t set[2])
{
	uint64_t h = (k0 ^ (k0 >> 32) ^ d->seed) * LM_FAST_MUL;
	if (d->nkeys == 2)
		h = (h ^ k1) * LM_FAST_MUL;
	const uint64_t mask = ((uint64_t)1 << set_bits) - 1;
	set[0] = (uint32_t)((h >> (64 - LM_FAST_MAX_SET_BITS)) & mask) * 2;
	set[1] = (uint32_t)((h >> (64 - 2 * LM_FAST_MAX_SET_BITS)) & mask) * 2;
}

/* A string key's two words, as the string thunk computes them: a multiply
 * per 8 bytes of the LEN bytes at S (the last word zero-padded), from the
 * method's seed, and LEN. The slot keeps the bytes too, and a hit compares
 * them: the words only choose the slot. */
static inline void lm_fast_str_key(const struct lm_fast_desc *d, const char *s, uint32_t len,
                                   uint64_t k[2])
{
	uint64_t h = d->seed;
	for (uint32_t i = 0; i < len; i += 8) {
		uint64_t w = 0;
		__builtin_memcpy(&w, s + i, len - i < 8 ? len - i : 8);
		h = (h ^ w) * LM_FAST_MUL;
	}
	k[0] = h;
	k[1] = len;
}

#endif
