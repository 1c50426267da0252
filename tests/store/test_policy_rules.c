/* The S3-FIFO rules one at a time, on the policy's own queues with a
 * clock passed in: small -> main promotion, ghost admission, the main
 * queue's second chance, the 10% share of the small queue, expired
 * entries first. Each test states the exact queue contents it expects. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "shim/store/store_internal.h"
#include "helpers.h"

#define NOW 1000

static struct lm_policy pol;

static void setup(void)
{
	lm_policy_init(&pol, 64, lm_test_key_hash);
}

static void teardown(void)
{
	lm_policy_free(&pol);
}

TestSuite(s3fifo, .init = setup, .fini = teardown);

/* An entry whose key is ID (8 bytes), as the store lays it out. */
static struct lm_entry *entry(uint64_t id)
{
	struct lm_entry *e = calloc(1, sizeof *e + 8);
	cr_assert_not_null(e);
	e->expires_ms = LM_DUR_NEVER;
	e->klen = 8;
	memcpy(e->data, &id, 8);
	return e;
}

static uint64_t id_of(const struct lm_entry *e)
{
	uint64_t id;
	memcpy(&id, e->data, 8);
	return id;
}

static void admit(struct lm_entry *e)
{
	lm_policy_admit(&pol, e, lm_test_key_hash(e->data, e->klen));
}

/* The ids of queue Q, head (oldest) first, as "1 2 3". */
static const char *ids(const struct lm_queue *q)
{
	static char buf[256];
	size_t n = 0;
	buf[0] = 0;
	for (const struct lm_entry *e = q->head; e && n < sizeof buf - 24; e = e->next)
		n += (size_t)snprintf(buf + n, sizeof buf - n, n ? " %lu" : "%lu",
		                      (unsigned long)id_of(e));
	return buf;
}

/* The victim, unlinked as the store does; its id. */
static uint64_t evict(void)
{
	struct lm_entry *v = lm_policy_victim(&pol, NOW);
	cr_assert_not_null(v, "a victim");
	lm_policy_unlink(&pol, v);
	uint64_t id = id_of(v);
	free(v);
	return id;
}

static void free_all(void)
{
	struct lm_queue *qs[] = {&pol.small, &pol.main};
	for (int i = 0; i < 2; i++)
		while (qs[i]->head) {
			struct lm_entry *e = qs[i]->head;
			lm_policy_unlink(&pol, e);
			free(e);
		}
}

Test(s3fifo, new_entries_enter_small_in_order)
{
	for (uint64_t i = 1; i <= 3; i++)
		admit(entry(i));
	cr_expect_str_eq(ids(&pol.small), "1 2 3");
	cr_expect_str_eq(ids(&pol.main), "");
	cr_expect_eq(pol.small.n, 3);
	free_all();
}

/* One hit is enough to move from small to main (with its freq spent); an
 * entry without a hit leaves. */
Test(s3fifo, one_hit_promotes_from_small_to_main)
{
	struct lm_entry *a = entry(1), *b = entry(2), *c = entry(3);
	admit(a);
	admit(b);
	admit(c);
	lm_policy_touch(b);
	cr_expect_eq(evict(), 1, "the head of small, never hit, goes");
	cr_expect_str_eq(ids(&pol.small), "2 3");
	/* small holds everything: its head is looked at again */
	cr_expect_eq(evict(), 3, "2 was hit once: it moves to main, 3 goes");
	cr_expect_str_eq(ids(&pol.small), "");
	cr_expect_str_eq(ids(&pol.main), "2");
	cr_expect_eq(b->queue, LM_Q_MAIN);
	cr_expect_eq(b->freq, 0, "the move spends one hit");
	free_all();
}

/* A key evicted from small and seen again goes straight to main. */
Test(s3fifo, a_key_in_the_ghost_is_admitted_to_main)
{
	admit(entry(1));
	admit(entry(2));
	cr_expect_eq(evict(), 1);
	struct lm_entry *again = entry(1), *fresh = entry(9);
	admit(again);
	admit(fresh);
	cr_expect_eq(again->queue, LM_Q_MAIN, "1 was evicted recently");
	cr_expect_eq(fresh->queue, LM_Q_SMALL, "9 never was");
	cr_expect_str_eq(ids(&pol.main), "1");
	cr_expect_str_eq(ids(&pol.small), "2 9");
	free_all();
}

/* At main's head an entry with hits is moved to the tail with one hit
 * fewer; the first without hits is the victim. */
Test(s3fifo, main_gives_a_second_chance_per_hit)
{
	struct lm_entry *e[4];
	for (uint64_t i = 0; i < 4; i++) {
		e[i] = entry(i + 1);
		admit(e[i]);
		lm_policy_touch(e[i]);
	}
	admit(entry(5));
	/* small: 1 2 3 4 (hit once each) 5: all but 5 move to main, 5 goes */
	cr_expect_eq(evict(), 5);
	cr_expect_str_eq(ids(&pol.main), "1 2 3 4");
	lm_policy_touch(e[0]);
	lm_policy_touch(e[0]);
	lm_policy_touch(e[1]);
	cr_expect_eq(evict(), 3, "1 and 2 were hit: they go round");
	cr_expect_str_eq(ids(&pol.main), "4 1 2");
	cr_expect_eq(e[0]->freq, 1);
	cr_expect_eq(e[1]->freq, 0);
	cr_expect_eq(evict(), 4);
	cr_expect_eq(evict(), 2, "1 still had a hit left");
	cr_expect_str_eq(ids(&pol.main), "1");
	cr_expect_eq(e[0]->freq, 0);
	free_all();
}

/* Hits count up to 3: a fourth buys no fourth round. */
Test(s3fifo, hits_saturate_at_three)
{
	struct lm_entry *a = entry(1);
	for (int i = 0; i < 5; i++)
		lm_policy_touch(a);
	cr_expect_eq(a->freq, 3);
	free(a);
}

/* Small is looked at while it holds at least a tenth of the entries. */
Test(s3fifo, small_is_evicted_from_while_it_holds_a_tenth)
{
	/* main: 1..9 (via a hit and a promotion), small: 20 */
	for (uint64_t i = 1; i <= 9; i++) {
		struct lm_entry *e = entry(i);
		admit(e);
		lm_policy_touch(e);
	}
	admit(entry(10));
	cr_expect_eq(evict(), 10);
	cr_expect_eq(pol.main.n, 9);
	admit(entry(20));
	cr_expect_eq(evict(), 20, "1 of 10 in small: small's turn");
	admit(entry(21));
	admit(entry(22));
	/* 10 is in the ghost: admitted again, straight to main (1..10) */
	struct lm_entry *again = entry(10);
	admit(again);
	cr_expect_eq(again->queue, LM_Q_MAIN);
	cr_expect_eq(evict(), 21, "2 of 12 in small: still small's turn");
	cr_expect_str_eq(ids(&pol.small), "22");
	/* 1 of 11: small's share is under a tenth: main's head goes */
	cr_expect_eq(evict(), 1, "main's turn");
	cr_expect_str_eq(ids(&pol.small), "22");
	free_all();
}

/* An expired entry at a queue's head goes first, hits or not. */
Test(s3fifo, an_expired_head_goes_first_whatever_its_hits)
{
	struct lm_entry *a = entry(1), *b = entry(2);
	admit(a);
	admit(b);
	lm_policy_touch(a);
	lm_policy_touch(a);
	a->expires_ms = NOW;
	cr_expect_eq(evict(), 1, "expired at NOW");
	cr_expect_str_eq(ids(&pol.main), "");
	struct lm_entry *c = entry(3);
	admit(c);
	c->expires_ms = NOW + 1;
	lm_policy_touch(b);
	cr_expect_eq(evict(), 3, "2 moves to main, 3 (not yet expired, no hit) goes");
	cr_expect_str_eq(ids(&pol.main), "2");
	free_all();
}
