/* The store's debug invariant checks (LM_ASSERT and the shard walk of
 * store_check.c, on with LM_DEBUG as in the sanitizer runs): a refcount,
 * a queue or a pending marker corrupted through the store's private
 * types aborts at the next check, and that check is the one expected.
 * A release build has no checks: the file is empty there. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "shim/store/store_internal.h"

#ifdef LM_DEBUG
enum { ABORTED_AS_EXPECTED = 42 };

/* What went to stderr, and the check it must name. */
static FILE *err_copy;
static const char *expected_check;

/* A test expecting a bare SIGABRT would pass for any abort: the report
 * must name the broken invariant. */
static void on_abort(int sig)
{
	char buf[1024];
	ssize_t n;

	(void)sig;
	n = pread(fileno(err_copy), buf, sizeof buf - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	_exit(strstr(buf, "invariant broken: ") && strstr(buf, expected_check) ? ABORTED_AS_EXPECTED
	                                                                       : 1);
}

static void expect_abort(const char *check)
{
	expected_check = check;
	err_copy = tmpfile();
	cr_assert_not_null(err_copy);
	cr_assert_geq(dup2(fileno(err_copy), 2), 0);
	cr_assert_neq(signal(SIGABRT, on_abort), SIG_ERR);
}

/* A one-shard store (100 entries) holding KEY; its entry. */
static struct lm_store *store_with(const char *key, struct lm_entry **entry)
{
	struct lm_store *s = lm_test_store(100, 1 << 20, 1, NULL);
	cr_assert_eq(lm_test_set(s, 0, key, "v", LM_DUR_NEVER), 1);
	struct lm_store_req r = lm_test_req(0, key);
	bool co;
	cr_assert_eq(lm_store_lookup(s, &r, entry, &co, NULL), LM_LOOKUP_HIT);
	lm_entry_release(s, *entry);
	return s;
}

/* A one-shard store where a coalescing miss of KEY left its pending marker
 * (returned) in *REQ. */
static struct lm_pending *store_pending(const char *key, struct lm_store **store,
                                        struct lm_store_req *req)
{
	struct lm_entry *e;
	bool co;
	*store = lm_test_store(100, 1 << 20, 1, NULL);
	*req = lm_test_req(0, key);
	req->coalesce = true;
	cr_assert_eq(lm_store_lookup(*store, req, &e, &co, NULL), LM_LOOKUP_MISS);
	cr_assert_not_null(req->pending);
	return req->pending;
}

/* A miss of another key takes the shard lock, and the walk runs there. */
static void miss_other(struct lm_store *s)
{
	struct lm_store_req r = lm_test_req(0, "other");
	struct lm_entry *e;
	bool co;
	lm_store_lookup(s, &r, &e, &co, NULL);
}

Test(store_invariants, a_consistent_store_passes_every_check)
{
	struct lm_store *s = lm_test_store(64, 1 << 20, 2, NULL);
	char key[16], out[8];
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "k%d", i % 90);
		if (lm_test_get(s, (uint32_t)i & 1, key, out, sizeof out) != LM_LOOKUP_HIT)
			lm_test_set(s, (uint32_t)i & 1, key, "v", i % 3 ? LM_DUR_NEVER : 5);
		if (i % 50 == 49)
			lm_test_now += 10;
	}
	lm_store_drop_method(s, 1);
	lm_store_drop_all(s);
	lm_store_free(s);
}

Test(store_invariants, an_entry_in_the_table_without_its_reference_aborts,
     .exit_code = ABORTED_AS_EXPECTED)
{
	struct lm_entry *e;
	struct lm_store *s = store_with("a", &e);
	expect_abort("store_check.c");
	atomic_store(&e->refs, 0);
	miss_other(s);
	_exit(2); /* not caught */
}

Test(store_invariants, a_broken_queue_link_aborts, .exit_code = ABORTED_AS_EXPECTED)
{
	struct lm_entry *a, *b;
	struct lm_store *s = store_with("a", &a);
	cr_assert_eq(lm_test_set(s, 0, "b", "v", LM_DUR_NEVER), 1);
	b = a->next;
	cr_assert_not_null(b);
	expect_abort("e->prev == prev");
	b->prev = NULL;
	miss_other(s);
	_exit(2);
}

Test(store_invariants, removing_an_entry_on_no_queue_aborts, .exit_code = ABORTED_AS_EXPECTED)
{
	struct lm_entry *e;
	struct lm_store *s = store_with("a", &e);
	expect_abort("e->queue != LM_Q_NONE");
	e->queue = LM_Q_NONE;
	lm_store_drop_key(s, 0, lm_test_hash("a", 1), "a", 1);
	_exit(2);
}

Test(store_invariants, a_listed_marker_its_owner_let_go_of_aborts, .exit_code = ABORTED_AS_EXPECTED)
{
	struct lm_store *s;
	struct lm_store_req r;
	struct lm_pending *p = store_pending("a", &s, &r);
	expect_abort("refs, memory_order_relaxed) >= 2");
	atomic_store(&p->refs, 1);
	miss_other(s);
	_exit(2);
}

Test(store_invariants, a_marker_finished_twice_aborts, .exit_code = ABORTED_AS_EXPECTED)
{
	struct lm_store *s;
	struct lm_store_req r;
	struct lm_pending *p = store_pending("a", &s, &r);
	expect_abort("!atomic_load_explicit(&p->done");
	atomic_store(&p->done, 1);
	lm_store_fill(s, &r, "v", 1, LM_DUR_NEVER);
	_exit(2);
}
#endif
