/* The thread pool (shim/base/tpool): a block given back is the next one
 * taken of its size, zeroed; sizes do not mix; a forked child can use the
 * pool even when another thread held its lock at the fork. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/base/tpool.h"

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

Test(tpool, a_block_given_back_is_taken_again_zeroed)
{
	unsigned char *p = lm_tpool_take(3000);
	cr_assert_not_null(p);
	cr_expect_eq((uintptr_t)p % 64, 0);
	cr_expect(all_zero(p, 3000));
	memset(p, 0xa5, 3000);
	lm_tpool_give(p, 3000);
	unsigned char *q = lm_tpool_take(3000);
	cr_expect_eq(q, p, "the pool's block is reused");
	cr_expect(all_zero(q, 3000), "and zeroed");
	lm_tpool_give(q, 3000);
}

Test(tpool, sizes_are_kept_apart)
{
	void *small = lm_tpool_take(5000), *big = lm_tpool_take(9000);
	cr_assert(small && big);
	lm_tpool_give(small, 5000);
	lm_tpool_give(big, 9000);
	void *b = lm_tpool_take(9000), *s = lm_tpool_take(5000);
	cr_expect_eq(b, big);
	cr_expect_eq(s, small);
	/* A size of its own gets a block of its own. */
	void *other = lm_tpool_take(7000);
	cr_expect(other != small && other != big);
	/* Sizes are kept rounded up to 64 bytes: 4993 is 5000's class. */
	lm_tpool_give(s, 5000);
	cr_expect_eq(lm_tpool_take(4993), small);
	lm_tpool_give(small, 4993);
	lm_tpool_give(b, 9000);
	lm_tpool_give(other, 7000);
}

Test(tpool, giving_null_is_nothing)
{
	lm_tpool_give(NULL, 100);
	void *p = lm_tpool_take(100);
	cr_expect_not_null(p);
	lm_tpool_give(p, 100);
}

/* Another thread takes and gives all the time, so that some forks find
 * it holding the pool's lock. */
static volatile int stop;

static void *churn(void *arg)
{
	(void)arg;
	while (!stop) {
		void *p = lm_tpool_take(640);
		lm_tpool_give(p, 640);
	}
	return NULL;
}

Test(tpool, a_forked_child_uses_the_pool)
{
	void *kept = lm_tpool_take(12345);
	cr_assert_not_null(kept);
	lm_tpool_give(kept, 12345);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, churn, NULL), 0);
	for (int i = 0; i < 200; i++) {
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			alarm(10); /* a child stuck on the lock dies of SIGALRM */
			void *p = lm_tpool_take(640);
			lm_tpool_give(p, 640);
			/* What the parent gave before the fork is the child's too. */
			_exit(lm_tpool_take(12345) == kept ? 0 : 1);
		}
		int status;
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %#x", i,
		          status);
	}
	stop = 1;
	pthread_join(t, NULL);
}

/* A new large block (the fast table's 128 KiB) comes zeroed without
 * touching its pages: a short process's first call made every one. */
Test(tpool, a_new_large_block_is_zero_without_its_pages_made)
{
	enum { N = 512 * 1024 };
	unsigned char *p = lm_tpool_take(N);
	cr_assert_not_null(p);
	cr_expect_eq((uintptr_t)p % 64, 0);
	static unsigned char vec[N / 4096 + 1];
	cr_assert_eq(mincore((void *)((uintptr_t)p & ~(uintptr_t)4095), N, vec), 0);
	size_t resident = 0;
	for (size_t i = 0; i < N / 4096; i++)
		resident += vec[i] & 1;
	cr_expect_lt(resident, 4, "%zu of %d pages made", resident, N / 4096);
	cr_expect(all_zero(p, N));
	lm_tpool_give(p, N);
}
