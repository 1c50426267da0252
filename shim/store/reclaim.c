/* Readers' records and grace periods (reclaim.h). */
#include <linux/membarrier.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "reclaim.h"

/* Starts at 1: a record's 0 means "outside". */
_Atomic uint64_t lm_rcu_epoch = 1;
bool lm_rcu_fast;
__thread struct lm_reader *lm_rcu_self;
__thread uint32_t lm_rcu_nest;

static _Atomic(struct lm_reader *) readers;
static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;

static long membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

void lm_rcu_init(void)
{
	if (lm_rcu_fast)
		return;
	long cmds = membarrier(MEMBARRIER_CMD_QUERY);
	if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
	    membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
		lm_rcu_fast = true;
}

/* The thread is gone: its record can serve another. */
static void reader_gone(void *arg)
{
	struct lm_reader *r = arg;
	atomic_store_explicit(&r->state, 0, memory_order_release);
	atomic_store_explicit(&r->used, 0, memory_order_release);
}

static void make_key(void)
{
	pthread_key_create(&reader_key, reader_gone);
}

struct lm_reader *lm_rcu_register(void)
{
	pthread_once(&reader_once, make_key);
	struct lm_reader *r;
	for (r = atomic_load_explicit(&readers, memory_order_acquire); r; r = r->next) {
		uint32_t free = 0;
		if (atomic_compare_exchange_strong_explicit(
		        &r->used, &free, 1, memory_order_acquire, memory_order_relaxed))
			break;
	}
	if (!r) {
		r = aligned_alloc(64, sizeof(*r));
		if (!r)
			return NULL;
		atomic_init(&r->state, 0);
		atomic_init(&r->used, 1);
		r->next = atomic_load_explicit(&readers, memory_order_relaxed);
		while (!atomic_compare_exchange_weak_explicit(
		    &readers, &r->next, r, memory_order_release, memory_order_relaxed))
			;
	}
	pthread_setspecific(reader_key, r);
	lm_rcu_self = r;
	return r;
}

uint64_t lm_rcu_stamp(void)
{
	/* The unlink before must be visible before the epoch is read (a
	 * locked add of 0: a full barrier): a reader that entered at a later
	 * epoch never saw the memory. */
	return atomic_fetch_add_explicit(&lm_rcu_epoch, 0, memory_order_seq_cst);
}

uint64_t lm_rcu_oldest(void)
{
	/* Readers entering from here on take the new epoch, above every
	 * stamp given so far. */
	atomic_fetch_add_explicit(&lm_rcu_epoch, 1, memory_order_seq_cst);
	/* Without membarrier, that locked add and the readers' exchanges are
	 * the barriers. */
	if (lm_rcu_fast && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0)
		return 0; /* readers skip their barrier: nothing is safe to free */
	uint64_t oldest = UINT64_MAX;
	for (struct lm_reader *r = atomic_load_explicit(&readers, memory_order_acquire); r;
	     r = r->next) {
		uint64_t e = atomic_load_explicit(&r->state, memory_order_seq_cst);
		if (e && e < oldest)
			oldest = e;
	}
	return oldest;
}

void lm_rcu_after_fork(void)
{
	/* The child has one thread: nobody reads while the scheme changes. */
	lm_rcu_fast = false;
	lm_rcu_init();
	for (struct lm_reader *r = atomic_load_explicit(&readers, memory_order_relaxed); r;
	     r = r->next) {
		if (r == lm_rcu_self)
			continue;
		atomic_store_explicit(&r->state, 0, memory_order_relaxed);
		atomic_store_explicit(&r->used, 0, memory_order_relaxed);
	}
}
