/* Coalescing of concurrent misses, recursion, and the hammer tests:
 * threads, fork while threads run. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static struct lm_store *cs;
static _Atomic int calls, hits, coalesced_hits;
static pthread_barrier_t bar;

static void *miss_worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&bar);
	struct lm_store_req r = lm_test_req(0, "shared");
	r.coalesce = true;
	struct lm_entry *e, *st;
	bool co;
	enum lm_lookup res = lm_store_lookup(cs, &r, &e, &co, &st);
	if (res == LM_LOOKUP_MISS) {
		atomic_fetch_add(&calls, 1);
		usleep(100 * 1000); /* the "function" runs a while */
		lm_store_fill(cs, &r, "result", 6, LM_DUR_NEVER);
	} else if (res == LM_LOOKUP_HIT) {
		size_t n;
		cr_expect_eq(memcmp(lm_entry_value(e, &n), "result", 6), 0);
		atomic_fetch_add(&hits, 1);
		if (co)
			atomic_fetch_add(&coalesced_hits, 1);
		lm_entry_release(cs, e);
	}
	return NULL;
}

Test(store_coalesce, eight_threads_one_call)
{
	cs = lm_test_store(100, 1 << 20, 1, NULL);
	pthread_t t[8];
	pthread_barrier_init(&bar, NULL, 8);
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, miss_worker, NULL);
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	cr_log_info("calls %d, hits %d, coalesced %d", calls, hits, coalesced_hits);
	cr_expect_eq(calls, 1);
	cr_expect_eq(hits, 7);
	cr_expect_eq(coalesced_hits, 7);
	lm_store_free(cs);
}

static void *abandon_worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&bar);
	for (;;) {
		struct lm_store_req r = lm_test_req(0, "flaky");
		r.coalesce = true;
		struct lm_entry *e, *st;
		bool co;
		enum lm_lookup res = lm_store_lookup(cs, &r, &e, &co, &st);
		if (res == LM_LOOKUP_HIT) {
			atomic_fetch_add(&hits, 1);
			lm_entry_release(cs, e);
			return NULL;
		}
		int n = atomic_fetch_add(&calls, 1);
		usleep(20 * 1000);
		if (n == 0) {
			lm_store_abandon(cs, &r); /* first owner fails */
			continue;
		}
		lm_store_fill(cs, &r, "ok", 2, LM_DUR_NEVER);
		return NULL;
	}
}

Test(store_coalesce, abandoned_miss_lets_one_waiter_retry)
{
	cs = lm_test_store(100, 1 << 20, 1, NULL);
	pthread_t t[4];
	pthread_barrier_init(&bar, NULL, 4);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, abandon_worker, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	cr_expect_eq(calls, 2, "abandon then exactly one retry expected, got %d calls", calls);
	cr_expect_eq(hits, 3);
	lm_store_free(cs);
}

Test(store_coalesce, recursion_returns_recurse)
{
	cs = lm_test_store(100, 1 << 20, 1, NULL);
	struct lm_store_req r = lm_test_req(0, "fib");
	r.coalesce = true;
	struct lm_entry *e, *st;
	bool co;
	cr_assert_eq(lm_store_lookup(cs, &r, &e, &co, &st), LM_LOOKUP_MISS);
	struct lm_store_req inner = lm_test_req(0, "fib");
	inner.coalesce = true;
	cr_expect_eq(lm_store_lookup(cs, &inner, &e, &co, &st), LM_LOOKUP_RECURSE);
	cr_expect_eq(lm_store_fill(cs, &r, "v", 1, 1000), 1);
	cr_expect_eq(lm_test_get(cs, 0, "fib", NULL, 0), LM_LOOKUP_HIT);
	lm_store_free(cs);
}

static enum lm_lookup timed_res;
static bool timed_pending;

static void *timed_waiter(void *arg)
{
	(void)arg;
	struct lm_store_req w = lm_test_req(0, "k");
	w.coalesce = true;
	struct lm_entry *e, *st;
	bool co;
	timed_res = lm_store_lookup(cs, &w, &e, &co, &st);
	timed_pending = w.pending != NULL;
	if (timed_res == LM_LOOKUP_HIT)
		lm_entry_release(cs, e);
	return NULL;
}

Test(store_coalesce, lost_owner_times_out_instead_of_hanging, .timeout = 10)
{
	struct lm_store_cfg cfg = {.hash = lm_test_key_hash,
	                           .max_entries = 100,
	                           .max_memory = 1 << 20,
	                           .nmethods = 1,
	                           .now_ms = lm_test_clock,
	                           .coalesce_wait_ms = 50};
	cs = lm_store_new(&cfg);
	struct lm_store_req r = lm_test_req(0, "k");
	r.coalesce = true;
	struct lm_entry *e, *st;
	bool co;
	cr_assert_eq(lm_store_lookup(cs, &r, &e, &co, &st), LM_LOOKUP_MISS);
	/* The owner never finishes while the waiter waits: it must give up
	 * and run uncoalesced (a miss that owns no marker). */
	pthread_t t;
	pthread_create(&t, NULL, timed_waiter, NULL);
	pthread_join(t, NULL);
	cr_expect_eq(timed_res, LM_LOOKUP_MISS);
	cr_expect_not(timed_pending);
	lm_store_abandon(cs, &r);
	lm_store_free(cs);
}

/* ---- stress ------------------------------------------------------------- */

static _Atomic int bad;

static void key_of(uint64_t id, char *k)
{
	snprintf(k, 32, "key:%llu", (unsigned long long)id);
}

static void val_of(uint64_t id, uint64_t *v, size_t *n)
{
	*n = 1 + id % 8;
	for (size_t i = 0; i < *n; i++)
		v[i] = lm_test_mix(id * 8 + i);
}

static void one_op(struct lm_store *s, uint64_t id, bool co)
{
	char k[32];
	key_of(id, k);
	struct lm_store_req r = lm_test_req((uint32_t)(id % 3), k);
	r.coalesce = co;
	struct lm_entry *e, *st;
	bool c;
	uint64_t v[8];
	size_t n;
	val_of(id, v, &n);
	enum lm_lookup res = lm_store_lookup(s, &r, &e, &c, &st);
	if (res == LM_LOOKUP_HIT) {
		size_t len;
		const void *got = lm_entry_value(e, &len);
		uint32_t kl;
		const void *gk = lm_entry_key(e, &kl);
		if (len != n * 8 || memcmp(got, v, len) != 0 || kl != strlen(k) ||
		    memcmp(gk, k, kl) != 0)
			atomic_fetch_add(&bad, 1);
		lm_entry_release(s, e);
	} else if (res == LM_LOOKUP_MISS) {
		if (st)
			lm_entry_unref(s, st);
		if (id % 17 == 0)
			lm_store_abandon(s, &r);
		else
			lm_store_fill(s, &r, v, n * 8, id % 5 ? LM_DUR_NEVER : 1);
	}
}

static void *stress_worker(void *arg)
{
	uint64_t seed = (uintptr_t)arg;
	for (int i = 0; i < 100000; i++) {
		seed = lm_test_mix(seed + i);
		one_op(cs, seed % 5000, i & 1);
		if (i % 5000 == 0)
			atomic_fetch_add(&lm_test_now, 1);
		if (i % 20011 == 0)
			lm_store_drop_method(cs, (uint32_t)(seed % 3));
	}
	return NULL;
}

Test(store_stress, eight_threads_values_match_keys, .timeout = 60)
{
	const uint64_t mmax[3] = {0, 500, 0};
	cs = lm_test_store(2000, 1 << 20, 3, mmax);
	pthread_t t[8];
	for (uintptr_t i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, stress_worker, (void *)(i + 1));
	for (int i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	cr_expect_eq(bad, 0, "%d hits returned a value of another key", bad);
	uint64_t n, b;
	lm_store_totals(cs, &n, &b);
	cr_expect_leq(n, 2000);
	cr_expect_leq(b, 1 << 20);
	lm_store_free(cs);
}

/* ---- fork ----------------------------------------------------------------- */

static _Atomic bool stop;

static void *hammer(void *arg)
{
	uint64_t seed = (uintptr_t)arg;
	while (!atomic_load(&stop)) {
		seed = lm_test_mix(seed);
		one_op(cs, seed % 3000, true);
	}
	return NULL;
}

/* A child must neither deadlock nor wait for a marker of a parent thread
 * that does not exist in it. The coalescing wait is longer than the alarm,
 * so such a wait fails the test, while a child merely slowed down by a
 * loaded machine (sanitizers, 2 cores, 4 hammering threads copied on
 * write) has room to finish. */
Test(store_fork, child_uses_store_while_parent_threads_hammer, .timeout = 120)
{
#ifdef __SANITIZE_ADDRESS__
	/* libasan's own allocator is not fork-safe: a child can inherit the
	 * lock of one of its size classes held by a hammering thread and hang
	 * in malloc (seen in gdb: SizeClassAllocator64::GetFromAllocator). */
	cr_skip_test("ASan's allocator can deadlock a child forked while threads allocate");
#endif
	struct lm_store_cfg cfg = {.hash = lm_test_key_hash,
	                           .max_entries = 1000,
	                           .max_memory = 1 << 20,
	                           .nmethods = 3,
	                           .now_ms = lm_test_clock,
	                           .coalesce_wait_ms = 60000};
	cs = lm_store_new(&cfg);
	pthread_t t[4];
	for (uintptr_t i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, (void *)(i + 1));
	for (int round = 0; round < 20; round++) {
		usleep(2000);
		pid_t pid = fork();
		cr_assert_neq(pid, -1);
		if (pid == 0) {
			alarm(20); /* a hang kills the child: the test fails */
			for (uint64_t id = 0; id < 3000; id++)
				one_op(cs, id, true);
			for (uint64_t id = 0; id < 3000; id++)
				one_op(cs, id, true);
			char k[32];
			key_of(424242, k);
			int ok = lm_test_set(cs, 0, "child-key", "v", LM_DUR_NEVER) == 1 &&
			         lm_test_get(cs, 0, "child-key", NULL, 0) == LM_LOOKUP_HIT;
			_exit(ok && bad == 0 ? 0 : 1);
		}
		int st;
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		          "child failed or hung (status %#x) in round %d", st, round);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	lm_store_free(cs);
}
