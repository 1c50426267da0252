/* The key map: an invalidation finds the key bytes; room is made by
 * dropping L1 copies, never by forgetting them silently. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "shim/tier/l2_internal.h"

struct calls {
	int n, all, method;
	uint32_t last_method;
	char last[32];
};

static void record(void *arg, uint32_t method, const void *key, uint32_t klen)
{
	struct calls *c = arg;
	c->n++;
	c->last_method = method;
	if (method == LM_L2_ALL)
		c->all++;
	else if (!key)
		c->method++;
	else
		snprintf(c->last, sizeof c->last, "%.*s", (int)klen, (const char *)key);
}

static void note(struct lm_keymap *km, uint32_t m, const char *k)
{
	lm_keymap_note(km, m, lm_l2_key_hash(k, strlen(k)), k, strlen(k));
}

Test(l2_keymap, an_invalidation_finds_the_key_bytes_once)
{
	struct calls c = {0};
	struct lm_keymap *km = lm_keymap_new(100, 0, record, &c);
	note(km, 1, "alice");
	note(km, 1, "alice");
	cr_expect_eq(lm_keymap_count(km), 1);
	lm_keymap_invalidate(km, 1, lm_l2_key_hash("alice", 5));
	cr_expect_eq(c.n, 1);
	cr_expect_eq(c.last_method, 1);
	cr_expect_str_eq(c.last, "alice");
	lm_keymap_invalidate(km, 1, lm_l2_key_hash("alice", 5));
	cr_expect_eq(c.n, 1, "forgotten once dropped");
	lm_keymap_invalidate(km, 2, lm_l2_key_hash("bob", 3));
	cr_expect_eq(c.n, 1, "a key never noted drops nothing");
	lm_keymap_free(km);
}

Test(l2_keymap, the_method_is_part_of_the_identity)
{
	struct calls c = {0};
	struct lm_keymap *km = lm_keymap_new(100, 0, record, &c);
	note(km, 1, "k");
	lm_keymap_invalidate(km, 2, lm_l2_key_hash("k", 1));
	cr_expect_eq(c.n, 0);
	lm_keymap_free(km);
}

Test(l2_keymap, overflow_drops_the_oldest_l1_copy)
{
	struct calls c = {0};
	struct lm_keymap *km = lm_keymap_new(2, 0, record, &c);
	note(km, 0, "a");
	note(km, 0, "b");
	cr_expect_eq(c.n, 0);
	note(km, 0, "c");
	cr_expect_eq(c.n, 1);
	cr_expect_str_eq(c.last, "a");
	cr_expect_eq(lm_keymap_count(km), 2);
	lm_keymap_free(km);
}

Test(l2_keymap, method_and_all_drops_forget_and_tell)
{
	struct calls c = {0};
	struct lm_keymap *km = lm_keymap_new(100, 0, record, &c);
	note(km, 0, "a");
	note(km, 1, "b");
	lm_keymap_invalidate_method(km, 0);
	cr_expect_eq(c.method, 1);
	cr_expect_eq(lm_keymap_count(km), 1);
	lm_keymap_invalidate_method(km, LM_L2_ALL);
	cr_expect_eq(c.all, 1);
	cr_expect_eq(lm_keymap_count(km), 0);
	lm_keymap_free(km);
}
