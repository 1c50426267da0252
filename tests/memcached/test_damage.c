/* Whatever bytes sit under our key names, a read is a miss or the right
 * value: garbage, a truncated value, another signature's, another key's,
 * an expired one, a generation that is not a number. */
#include <criterion/criterion.h>
#include <string.h>

#include "helpers.h"
#include "shim/tier/l2_internal.h"

static struct lm_test_mc srv;
static struct lm_test_l2 l;
static char name[512];

static void setup(void)
{
	cr_assert(lm_test_mc_start(&srv), "memcached starts");
	/* l1_ttl 0: generations are read on every call */
	cr_assert_not_null(lm_test_l2_open(&l, &srv, 1, NULL, 0));
	cr_assert_eq(lm_test_set(l.l2, M_USER, "alice", "uid=1000", 60000), LM_L2_HIT);
	cr_assert(lm_test_data_key(&srv, 1, "lmtest", "get_user", "alice", name, sizeof name));
}

static void teardown(void)
{
	lm_test_l2_close(&l);
	lm_test_mc_kill(&srv);
}

TestSuite(mc_damage, .init = setup, .fini = teardown, .timeout = 30);

/* Write VAL raw under alice's name; then a read must miss, and a proper
 * store must be read back again. */
static void expect_miss_for(const void *val, size_t len, const char *what)
{
	char v[64];
	cr_assert(lm_test_mc_set(srv.port, name, val, len, 0), "raw write of %s", what);
	cr_expect_eq(lm_test_get(l.l2, M_USER, "alice", v, sizeof v), LM_L2_MISS, "%s", what);
	cr_expect_eq(lm_test_set(l.l2, M_USER, "alice", "uid=1000", 60000), LM_L2_HIT);
	cr_expect_eq(lm_test_get(l.l2, M_USER, "alice", v, sizeof v), LM_L2_HIT, "after %s", what);
	cr_expect_str_eq(v, "uid=1000");
}

/* An item as the backend writes it: expiry (unix ms), then the value. */
static size_t item(unsigned char *out, uint64_t exp_ms, uint64_t fp, const char *key,
                   const char *val)
{
	struct lm_buf b = {0};
	for (int i = 0; i < 8; i++)
		out[i] = (unsigned char)(exp_ms >> (8 * i));
	lm_l2_value_encode(&b, fp, key, (uint32_t)strlen(key), val, strlen(val));
	memcpy(out + 8, b.p, b.len);
	size_t n = 8 + b.len;
	lm_buf_free(&b);
	return n;
}

Test(mc_damage, the_test_writes_what_the_backend_reads)
{
	unsigned char buf[256];
	char v[64];
	size_t n = item(buf, 0, 0x1111, "alice", "forged");
	cr_assert(lm_test_mc_set(srv.port, name, buf, n, 0));
	cr_expect_eq(lm_test_get(l.l2, M_USER, "alice", v, sizeof v), LM_L2_HIT);
	cr_expect_str_eq(v, "forged",
	                 "a well-formed raw item is read: the misses below are checks");
}

Test(mc_damage, garbage_is_a_miss)
{
	static const char garbage[] = "\xde\xad\xbe\xef garbage \x00\x01";
	expect_miss_for(garbage, sizeof garbage - 1, "garbage");
	expect_miss_for("", 0, "an empty value");
	expect_miss_for("abc", 3, "a value shorter than the expiry");
}

Test(mc_damage, a_truncated_value_is_a_miss)
{
	unsigned char buf[256];
	size_t n = item(buf, 0, 0x1111, "alice", "uid=1000");
	expect_miss_for(buf, 8 + LM_L2_HDR_LEN + 2, "a value cut inside the key");
	expect_miss_for(buf, 8 + 10, "a value cut inside the header");
	cr_expect_gt(n, 8 + LM_L2_HDR_LEN + 5);
}

Test(mc_damage, another_fingerprint_or_key_is_a_miss)
{
	unsigned char buf[256];
	size_t n = item(buf, 0, 0x9999, "alice", "uid=1000");
	expect_miss_for(buf, n, "another signature's value");
	n = item(buf, 0, 0x1111, "mallory", "uid=0");
	expect_miss_for(buf, n, "another key's value");
}

Test(mc_damage, an_expired_value_is_a_miss)
{
	unsigned char buf[256];
	size_t n = item(buf, 1000, 0x1111, "alice", "uid=1000");
	expect_miss_for(buf, n, "a value that expired in 1970");
}

Test(mc_damage, a_generation_that_is_not_a_number_is_a_miss)
{
	char v[64];
	cr_assert(lm_test_mc_set(srv.port, "lmtest:#gen:get_user", "zz", 2, 0));
	cr_expect_neq(lm_test_get(l.l2, M_USER, "alice", v, sizeof v), LM_L2_HIT);
	cr_expect_neq(lm_test_set(l.l2, M_USER, "alice", "x", 60000), LM_L2_HIT);
	lm_l2_drop_method(l.l2, M_USER); /* must not crash either */
}
