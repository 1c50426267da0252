/* A futex word and a small mutex built on it, for the store.
 *
 * Both issue the futex system call directly (inline `syscall` on x86-64)
 * rather than through libc: nothing here can be hooked by the host's
 * config, and errno is never touched. The mutex is the classic three-state
 * one (0 free, 1 locked, 2 locked with waiters): an uncontended lock and
 * unlock are one atomic instruction each and make no system call. It holds
 * no owner or waiter list, so a forked child can reset it by storing 0. */
#ifndef LM_FUTEX_H
#define LM_FUTEX_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>

static inline long lm_futex_call(_Atomic uint32_t *word, int op, uint32_t val,
                                 const struct timespec *rel)
{
#if defined(__x86_64__)
	long ret;
	register long r10 __asm__("r10") = (long)rel;
	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"((long)SYS_futex), "D"(word), "S"((long)op), "d"((long)val), "r"(r10)
	                 : "rcx", "r11", "memory");
	return ret;
#else
#error "lm_futex_call: only x86-64 is supported"
#endif
}

/* Sleep while *word == val, at most REL (NULL: no limit). Spurious wakeups
 * happen: callers re-check their condition. */
static inline void lm_futex_wait(_Atomic uint32_t *word, uint32_t val, const struct timespec *rel)
{
	lm_futex_call(word, FUTEX_WAIT_PRIVATE, val, rel);
}

static inline void lm_futex_wake_all(_Atomic uint32_t *word)
{
	lm_futex_call(word, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL);
}

struct lm_lock {
	_Atomic uint32_t v;
};

static inline void lm_lock(struct lm_lock *l)
{
	uint32_t c = 0;
	if (atomic_compare_exchange_strong_explicit(&l->v, &c, 1, memory_order_acquire,
	                                            memory_order_relaxed))
		return;
	/* Shard critical sections are short: a few pauses usually beat a
	 * sleep. */
	for (int i = 0; i < 64; i++) {
		__builtin_ia32_pause();
		c = 0;
		if (atomic_load_explicit(&l->v, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_weak_explicit(&l->v, &c, 1, memory_order_acquire,
		                                          memory_order_relaxed))
			return;
	}
	c = atomic_exchange_explicit(&l->v, 2, memory_order_acquire);
	while (c != 0) {
		lm_futex_wait(&l->v, 2, NULL);
		c = atomic_exchange_explicit(&l->v, 2, memory_order_acquire);
	}
}

static inline void lm_unlock(struct lm_lock *l)
{
	if (atomic_exchange_explicit(&l->v, 0, memory_order_release) == 2)
		lm_futex_call(&l->v, FUTEX_WAKE_PRIVATE, 1, NULL);
}

/* In a forked child only: no other thread exists to hold or wait. */
static inline void lm_lock_reset(struct lm_lock *l)
{
	atomic_store_explicit(&l->v, 0, memory_order_relaxed);
}

#endif
