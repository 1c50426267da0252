/* Reads and writes against a real redis-server: the round trip, the
 * header checks on what comes back, TTLs, local-only methods. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static struct lm_test_redis srv;
static struct lm_test_l2 a;

static void setup(void)
{
	cr_assert(lm_test_redis_start(&srv), "redis-server did not start");
	cr_assert_not_null(lm_test_l2_open(&a, &srv, true, 0x1111));
}

static void teardown(void)
{
	lm_test_l2_close(&a);
	lm_test_redis_stop(&srv);
}

TestSuite(redis_roundtrip, .init = setup, .fini = teardown);

Test(redis_roundtrip, set_then_get_over_tcp)
{
	char buf[64];
	cr_expect_eq(lm_test_get(a.l2, M_USER, "alice", buf, sizeof buf), LM_L2_MISS);
	cr_assert_eq(lm_test_set(a.l2, M_USER, "alice", "uid=1000", 60000), LM_L2_HIT);
	cr_expect_eq(lm_test_get(a.l2, M_USER, "alice", buf, sizeof buf), LM_L2_HIT);
	cr_expect_str_eq(buf, "uid=1000");
	cr_expect_eq(lm_test_get(a.l2, M_LOOKUP, "alice", buf, sizeof buf), LM_L2_MISS,
	             "methods are part of the key");
}

Test(redis_roundtrip, a_second_instance_over_the_unix_socket_reads_it)
{
	struct lm_test_l2 b;
	cr_assert_not_null(lm_test_l2_open(&b, &srv, false, 0x1111));
	cr_assert_eq(lm_test_set(a.l2, M_USER, "bob", "uid=1001", 60000), LM_L2_HIT);
	char buf[64];
	cr_expect_eq(lm_test_get(b.l2, M_USER, "bob", buf, sizeof buf), LM_L2_HIT);
	cr_expect_str_eq(buf, "uid=1001");
	lm_test_l2_close(&b);
}

Test(redis_roundtrip, binary_keys_and_values_survive)
{
	const char key[] = {'k', 0, 'e', '\r', '\n', 'y'};
	const unsigned char val[] = {0, 1, 2, 255, 0, '\n'};
	cr_assert_eq(lm_l2_set(a.l2, M_USER, key, sizeof key, val, sizeof val, 60000), LM_L2_HIT);
	struct lm_buf out = {0};
	cr_assert_eq(lm_l2_get(a.l2, M_USER, key, sizeof key, &out), LM_L2_HIT);
	cr_expect_eq(out.len, sizeof val);
	cr_expect_eq(memcmp(out.p, val, sizeof val), 0);
	lm_buf_free(&out);
	cr_expect_eq(lm_l2_get(a.l2, M_USER, key, sizeof key - 1, &out), LM_L2_MISS);
	lm_buf_free(&out);
}

Test(redis_roundtrip, a_value_of_another_signature_is_a_miss)
{
	struct lm_test_l2 other;
	cr_assert_not_null(lm_test_l2_open(&other, &srv, false, 0x9999));
	cr_assert_eq(lm_test_set(other.l2, M_USER, "carol", "other layout", 60000), LM_L2_HIT);
	char buf[64];
	cr_expect_eq(lm_test_get(a.l2, M_USER, "carol", buf, sizeof buf), LM_L2_MISS);
	cr_expect_eq(lm_test_get(other.l2, M_USER, "carol", buf, sizeof buf), LM_L2_HIT);
	lm_test_l2_close(&other);
}

Test(redis_roundtrip, garbage_written_by_someone_else_is_a_miss)
{
	char name[256], buf[64];
	lm_test_name("get_user", "dave", name, sizeof name);
	redisContext *raw = lm_test_redis_raw(&srv);
	cr_assert_not_null(raw);
	const char *garbage[] = {"", "x", "LM2V", "LM2V\1\0\0\0",
	                         "LM2V\1\0\0\0\x11\x11\0\0\0\0\0\0\xff"
	                         "\xff\xff\xff"};
	for (size_t i = 0; i < sizeof garbage / sizeof *garbage; i++) {
		freeReplyObject(
		    redisCommand(raw, "SET %s %b", name, garbage[i], strlen(garbage[i])));
		cr_expect_eq(lm_test_get(a.l2, M_USER, "dave", buf, sizeof buf), LM_L2_MISS,
		             "garbage %zu", i);
	}
	/* Another type under the name: an error reply, still only a miss. */
	freeReplyObject(redisCommand(raw, "DEL %s", name));
	freeReplyObject(redisCommand(raw, "LPUSH %s x", name));
	cr_expect_eq(lm_test_get(a.l2, M_USER, "dave", buf, sizeof buf), LM_L2_MISS);
	cr_expect_eq(lm_test_set(a.l2, M_USER, "eve", "fine", 60000), LM_L2_HIT,
	             "the connection is still usable");
	redisFree(raw);
}

Test(redis_roundtrip, a_truncated_real_value_is_a_miss)
{
	char name[256], buf[64];
	cr_assert_eq(lm_test_set(a.l2, M_USER, "frank", "a long enough value", 60000), LM_L2_HIT);
	lm_test_name("get_user", "frank", name, sizeof name);
	redisContext *raw = lm_test_redis_raw(&srv);
	redisReply *rep = redisCommand(raw, "GET %s", name);
	cr_assert_eq(rep->type, REDIS_REPLY_STRING);
	for (size_t cut = 0; cut < 20 + 5; cut++) {
		freeReplyObject(redisCommand(raw, "SET %s %b", name, rep->str, cut));
		cr_expect_eq(lm_test_get(a.l2, M_USER, "frank", buf, sizeof buf), LM_L2_MISS,
		             "cut at %zu", cut);
	}
	freeReplyObject(rep);
	redisFree(raw);
}

Test(redis_roundtrip, ttl_goes_to_redis_as_px_and_caps_l1)
{
	char name[256];
	cr_assert_eq(lm_test_set(a.l2, M_USER, "gina", "v", 300), LM_L2_HIT);
	lm_test_name("get_user", "gina", name, sizeof name);
	redisContext *raw = lm_test_redis_raw(&srv);
	redisReply *rep = redisCommand(raw, "PTTL %s", name);
	cr_expect_eq(rep->type, REDIS_REPLY_INTEGER);
	cr_expect(rep->integer > 0 && rep->integer <= 300, "PTTL %lld", rep->integer);
	freeReplyObject(rep);

	struct lm_buf out = {0};
	int64_t l1 = -5;
	cr_assert_eq(lm_l2_get_ttl(a.l2, M_USER, "gina", 4, &out, &l1), LM_L2_HIT);
	cr_expect(l1 >= 0 && l1 <= 300, "L1 may keep it %lld ms", (long long)l1);
	lm_buf_free(&out);

	cr_assert(
	    LM_WAIT_FOR(lm_test_get(a.l2, M_USER, "gina", (char[8]){0}, 8) == LM_L2_MISS, 3000),
	    "the entry never expired");
	redisFree(raw);
}

Test(redis_roundtrip, never_sets_no_expiry_and_l1_gets_l1_ttl)
{
	char name[256];
	cr_assert_eq(lm_test_set(a.l2, M_USER, "hal", "v", LM_L2_TTL_NEVER), LM_L2_HIT);
	lm_test_name("get_user", "hal", name, sizeof name);
	redisContext *raw = lm_test_redis_raw(&srv);
	redisReply *rep = redisCommand(raw, "PTTL %s", name);
	cr_expect_eq(rep->integer, -1);
	freeReplyObject(rep);
	redisFree(raw);
	struct lm_buf out = {0};
	int64_t l1 = -5;
	cr_assert_eq(lm_l2_get_ttl(a.l2, M_USER, "hal", 3, &out, &l1), LM_L2_HIT);
	cr_expect_eq(l1, a.p.settings.l1_ttl_ms);
	lm_buf_free(&out);
}

Test(redis_roundtrip, local_only_methods_are_never_sent)
{
	char buf[64];
	cr_expect_eq(lm_test_set(a.l2, M_LOCAL, "k", "v", 60000), LM_L2_MISS);
	cr_expect_eq(lm_test_get(a.l2, M_LOCAL, "k", buf, sizeof buf), LM_L2_MISS);
	cr_expect_eq(lm_test_set(a.l2, 99, "k", "v", 60000), LM_L2_MISS, "unknown method");
	redisContext *raw = lm_test_redis_raw(&srv);
	redisReply *rep = redisCommand(raw, "DBSIZE");
	cr_expect_eq(rep->integer, 0, "something was written");
	freeReplyObject(rep);
	redisFree(raw);
}

Test(redis_roundtrip, errno_is_untouched)
{
	char buf[64];
	errno = 1234;
	lm_test_set(a.l2, M_USER, "ivy", "v", 60000);
	lm_test_get(a.l2, M_USER, "ivy", buf, sizeof buf);
	lm_l2_drop_key(a.l2, M_USER, "ivy", 3);
	lm_l2_drop_method(a.l2, M_USER);
	cr_expect_eq(errno, 1234);
}
