/* Epoch-based reclamation for the store's lock-free readers.
 *
 * A hit reads the table with no lock and no atomic read-modify-write: it
 * announces itself by a plain store of the global epoch into its thread's
 * own record (one cache line that only the reclaimer ever reads), reads,
 * and stores 0 when done. Memory the writers unlink (entries, outgrown slot
 * arrays) is stamped with the epoch and freed only once no record shows an
 * epoch at or below the stamp.
 *
 * The reader's store must be visible before its loads of the table. With
 * the membarrier system call the reclaimer forces that on every running
 * thread of the process (the "memb" scheme of liburcu), so the reader
 * needs only a compiler barrier; without it (old kernels, seccomp) the
 * reader's store is an exchange, a full barrier on its own cache line.
 *
 * A thread is in at most one read section at a time except for nesting
 * within its own code (counted); signal handlers that could enter the store
 * are kept out by the dispatcher's re-entrancy guard. */
#ifndef LM_RECLAIM_H
#define LM_RECLAIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct lm_reader {
	_Atomic uint64_t state; /* 0: outside; else the epoch read on entry */
	_Atomic uint32_t used;  /* owned by a live thread */
	struct lm_reader *next; /* every record ever made, never freed */
} __attribute__((aligned(64)));

extern _Atomic uint64_t lm_rcu_epoch;
extern bool lm_rcu_fast; /* membarrier works: readers skip their fence */
extern __thread struct lm_reader *lm_rcu_self;
extern __thread uint32_t lm_rcu_nest;

/* This thread's record, made on its first read (the only allocation a hit
 * can make, once per thread); NULL when out of memory. */
struct lm_reader *lm_rcu_register(void);

/* Enter a read section; false (and not entered) only when the thread's
 * record cannot be made. */
static inline bool lm_read_enter(void)
{
	struct lm_reader *r = lm_rcu_self;
	if (__builtin_expect(!r, 0) && !(r = lm_rcu_register()))
		return false;
	if (lm_rcu_nest++ == 0) {
		uint64_t e = atomic_load_explicit(&lm_rcu_epoch, memory_order_acquire);
		if (lm_rcu_fast) {
			atomic_store_explicit(&r->state, e, memory_order_relaxed);
			atomic_signal_fence(memory_order_seq_cst);
		} else {
			/* a full barrier (on its own line; TSan takes no fence) */
			atomic_exchange_explicit(&r->state, e, memory_order_seq_cst);
		}
	}
	return true;
}

static inline void lm_read_exit(void)
{
	if (--lm_rcu_nest == 0)
		atomic_store_explicit(&lm_rcu_self->state, 0, memory_order_release);
}

/* For a writer, after unlinking: the stamp to retire memory under. */
uint64_t lm_rcu_stamp(void);
/* Start a reclamation: make every reader's record visible and return the
 * oldest epoch a reader is still in (UINT64_MAX: none). Memory stamped
 * below it can be freed. */
uint64_t lm_rcu_oldest(void);
/* In a forked child: the other threads are gone, and so are their read
 * sections. */
void lm_rcu_after_fork(void);
/* Once per process, before the first store: try to register membarrier. */
void lm_rcu_init(void);

#endif
