/* The parts of the shared tier that need no server: the value header (an
 * untrusted input), key names, backoff. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "shim/tier/l2_internal.h"

static struct lm_buf encode(uint64_t fp, const char *key, const char *val)
{
	struct lm_buf b = {0};
	cr_assert_eq(lm_l2_value_encode(&b, fp, key, strlen(key), val, strlen(val)), 0);
	return b;
}

Test(l2_value, round_trip_gives_the_value_back)
{
	struct lm_buf b = encode(42, "key\0x", "the value");
	const void *v;
	size_t vlen;
	cr_assert(lm_l2_value_check(b.p, b.len, 42, "key", 3, &v, &vlen));
	cr_expect_eq(vlen, strlen("the value"));
	cr_expect_eq(memcmp(v, "the value", vlen), 0);
	lm_buf_free(&b);
}

Test(l2_value, empty_key_and_value_round_trip)
{
	struct lm_buf b = encode(7, "", "");
	const void *v;
	size_t vlen = 99;
	cr_assert(lm_l2_value_check(b.p, b.len, 7, "", 0, &v, &vlen));
	cr_expect_eq(vlen, 0);
	lm_buf_free(&b);
}

Test(l2_value, another_fingerprint_key_or_format_is_refused)
{
	struct lm_buf b = encode(42, "alice", "v");
	const void *v;
	size_t vlen;
	cr_expect_not(lm_l2_value_check(b.p, b.len, 43, "alice", 5, &v, &vlen));
	cr_expect_not(lm_l2_value_check(b.p, b.len, 42, "alicE", 5, &v, &vlen));
	cr_expect_not(lm_l2_value_check(b.p, b.len, 42, "alic", 4, &v, &vlen));
	cr_expect_not(lm_l2_value_check(b.p, b.len, 42, "alicev", 6, &v, &vlen));
	b.p[4]++; /* format version */
	cr_expect_not(lm_l2_value_check(b.p, b.len, 42, "alice", 5, &v, &vlen));
	b.p[4]--;
	b.p[0] ^= 1; /* magic */
	cr_expect_not(lm_l2_value_check(b.p, b.len, 42, "alice", 5, &v, &vlen));
	lm_buf_free(&b);
}

/* A truncated value is never accepted, whatever the cut: copies of each
 * prefix are checked in exactly-sized heap blocks so that an over-read
 * would show under a memory checker. */
Test(l2_value, truncation_at_every_offset_is_refused)
{
	struct lm_buf b = encode(0x1234, "some key bytes", "");
	for (size_t cut = 0; cut < b.len; cut++) {
		unsigned char *p = malloc(cut ? cut : 1);
		memcpy(p, b.p, cut);
		const void *v;
		size_t vlen;
		cr_expect_not(lm_l2_value_check(p, cut, 0x1234, "some key bytes", 14, &v, &vlen),
		              "accepted a value cut at %zu", cut);
		free(p);
	}
	lm_buf_free(&b);
}

/* A value with a payload: every cut inside the payload still passes the
 * header, and gives exactly the bytes present. */
Test(l2_value, a_cut_payload_gives_only_the_bytes_present)
{
	struct lm_buf b = encode(1, "k", "payload");
	for (size_t cut = LM_L2_HDR_LEN + 1; cut <= b.len; cut++) {
		const void *v;
		size_t vlen;
		cr_assert(lm_l2_value_check(b.p, cut, 1, "k", 1, &v, &vlen));
		cr_expect_eq(vlen, cut - LM_L2_HDR_LEN - 1);
	}
	lm_buf_free(&b);
}

Test(l2_value, random_bytes_are_refused)
{
	srand(12345);
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand() % 64);
		unsigned char *p = malloc(len ? len : 1);
		for (size_t i = 0; i < len; i++)
			p[i] = (unsigned char)rand();
		/* Half of them start like a real header, to reach the length checks. */
		if (round % 2 && len >= 8)
			memcpy(p, "LM2V\1\0\0\0", 8);
		const void *v;
		size_t vlen;
		cr_expect_not(lm_l2_value_check(p, len, 99, "key", 3, &v, &vlen));
		free(p);
	}
}

Test(l2_value, a_huge_key_length_is_refused)
{
	struct lm_buf b = encode(5, "k", "value");
	b.p[16] = b.p[17] = b.p[18] = b.p[19] = 0xff;
	const void *v;
	size_t vlen;
	cr_expect_not(lm_l2_value_check(b.p, b.len, 5, "k", 1, &v, &vlen));
	cr_expect_not(lm_l2_value_check(b.p, b.len, 5, "k", UINT32_MAX, &v, &vlen));
	lm_buf_free(&b);
}

static char *name_of(const char *method, uint64_t g, uint64_t m, const char *key)
{
	struct lm_buf b = {0};
	cr_assert_eq(lm_l2_data_name(&b, "ns", method, g, m, lm_l2_key_hash(key, strlen(key))), 0);
	char *s = strndup((char *)b.p, b.len);
	lm_buf_free(&b);
	return s;
}

Test(l2_names, data_name_parses_back_to_method_and_hash)
{
	char *s = name_of("get_user", 3, 17, "alice");
	cr_expect_eq(strncmp(s, "ns:get_user:3.17:", 17), 0, "%s", s);
	struct lm_l2_name n;
	cr_assert_eq(lm_l2_parse_name("ns", s, strlen(s), &n), LM_L2_NAME_DATA);
	cr_expect_eq(n.mlen, 8);
	cr_expect_eq(memcmp(n.method, "get_user", 8), 0);
	struct lm_l2_hash h = lm_l2_key_hash("alice", 5);
	cr_expect_eq(n.hash.hi, h.hi);
	cr_expect_eq(n.hash.lo, h.lo);
	free(s);
}

Test(l2_names, generation_names_are_recognised)
{
	struct lm_buf b = {0};
	struct lm_l2_name n;
	lm_l2_gen_name(&b, "ns", NULL);
	cr_expect_eq(lm_l2_parse_name("ns", (char *)b.p, b.len, &n), LM_L2_NAME_GEN_ALL);
	b.len = 0;
	lm_l2_gen_name(&b, "ns", "gen");
	cr_assert_eq(lm_l2_parse_name("ns", (char *)b.p, b.len, &n), LM_L2_NAME_GEN_METHOD);
	cr_expect_eq(n.mlen, 3);
	cr_expect_eq(memcmp(n.method, "gen", 3), 0);
	lm_buf_free(&b);
}

Test(l2_names, foreign_and_malformed_names_are_other)
{
	const char *bad[] = {"",
	                     "ns",
	                     "ns:",
	                     "nsx:get_user:0.0:00000000000000000000000000000000",
	                     "other:get_user:0.0:00000000000000000000000000000000",
	                     "ns:get_user:0.0:0000000000000000000000000000000",
	                     "ns:get_user:0.0:000000000000000000000000000000000",
	                     "ns:get_user:0.0:0000000000000000000000000000000g",
	                     "ns:get_user:0:00000000000000000000000000000000",
	                     "ns:get_user:.0:00000000000000000000000000000000",
	                     "ns::0.0:00000000000000000000000000000000",
	                     "ns:get_user:123456789012345678901.0:00000000000000000000000000000000",
	                     "ns:#gen:"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct lm_l2_name n;
		cr_expect_eq(lm_l2_parse_name("ns", bad[i], strlen(bad[i]), &n), LM_L2_NAME_OTHER,
		             "%s", bad[i]);
	}
}

Test(l2_backoff, healthy_admits_everyone)
{
	struct lm_backoff b = {0};
	cr_expect(lm_backoff_admit(&b, 0));
	cr_expect(lm_backoff_admit(&b, 0));
}

Test(l2_backoff, a_failure_refuses_until_the_period_ends_then_one_probe)
{
	struct lm_backoff b = {0};
	lm_backoff_fail(&b, 1000);
	cr_expect_not(lm_backoff_admit(&b, 1000));
	cr_expect_not(lm_backoff_admit(&b, 1000 + LM_L2_BACKOFF_MIN_MS - 1));
	cr_expect(lm_backoff_admit(&b, 1000 + LM_L2_BACKOFF_MIN_MS));
	cr_expect_not(lm_backoff_admit(&b, 1000 + LM_L2_BACKOFF_MIN_MS), "a second prober");
	lm_backoff_ok(&b);
	cr_expect(lm_backoff_admit(&b, 0));
}

Test(l2_backoff, periods_double_up_to_the_cap)
{
	struct lm_backoff b = {0};
	int64_t now = 0, expect = LM_L2_BACKOFF_MIN_MS;
	for (int i = 0; i < 12; i++) {
		lm_backoff_fail(&b, now);
		cr_expect_not(lm_backoff_admit(&b, now + expect - 1), "round %d", i);
		cr_expect(lm_backoff_admit(&b, now + expect), "round %d", i);
		now += expect;
		expect = expect * 2 > LM_L2_BACKOFF_MAX_MS ? LM_L2_BACKOFF_MAX_MS : expect * 2;
	}
	cr_expect_eq(expect, LM_L2_BACKOFF_MAX_MS);
}
