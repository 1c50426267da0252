/* The memcached limits, without a server: expiration times past 30 days
 * become absolute, key names past 250 bytes (or not printable) are
 * hashed. */
#include <criterion/criterion.h>
#include <string.h>

#include "shim/tier/l2_internal.h"

#define DAY (24 * 3600)

Test(mc_exptime, short_ttls_are_relative_whole_seconds)
{
	time_t now = 1700000000;
	cr_expect_eq(lm_l2_mc_exptime(5000, now), 5);
	cr_expect_eq(lm_l2_mc_exptime(1500, now), 2, "rounded up, never to 0 (no expiry)");
	cr_expect_eq(lm_l2_mc_exptime(1, now), 1);
	cr_expect_eq(lm_l2_mc_exptime(30LL * DAY * 1000, now), 30 * DAY);
}

Test(mc_exptime, ttls_past_30_days_are_absolute)
{
	time_t now = 1700000000;
	cr_expect_eq(lm_l2_mc_exptime(30LL * DAY * 1000 + 1000, now), now + 30 * DAY + 1);
	cr_expect_eq(lm_l2_mc_exptime(40LL * DAY * 1000, now), now + 40 * DAY);
}

Test(mc_exptime, never_and_beyond_32_bits_do_not_expire)
{
	time_t now = 1700000000;
	cr_expect_eq(lm_l2_mc_exptime(LM_L2_TTL_NEVER, now), 0);
	cr_expect_eq(lm_l2_mc_exptime(100LL * 365 * DAY * 1000, now), 0);
}

static char *mc_key(const char *name, size_t len)
{
	struct lm_buf b = {0};
	cr_assert_eq(lm_l2_mc_key(&b, name, len), 0);
	char *s = strndup((const char *)b.p, b.len);
	lm_buf_free(&b);
	return s;
}

Test(mc_key, short_printable_names_are_kept)
{
	char name[251];
	memset(name, 'a', 250);
	name[250] = 0;
	char *k = mc_key("ns:get_user:1.2:00ff", 20);
	cr_expect_str_eq(k, "ns:get_user:1.2:00ff");
	free(k);
	k = mc_key(name, 250);
	cr_expect_str_eq(k, name, "250 bytes is still within the limit");
	free(k);
}

Test(mc_key, long_names_are_hashed_within_the_limit)
{
	char a[400], b[400];
	memset(a, 'n', sizeof a);
	memcpy(b, a, sizeof b);
	b[399] = 'm';
	char *ka = mc_key(a, 251), *ka2 = mc_key(a, 251), *kb = mc_key(b, 400),
	     *kc = mc_key(a, 400);
	cr_expect_leq(strlen(ka), 250);
	cr_expect_eq(strncmp(ka, "#h:", 3), 0);
	cr_expect_str_eq(ka, ka2, "the same name always maps to the same key");
	cr_expect_str_neq(kb, kc, "names that differ only past 250 bytes get different keys");
	free(ka);
	free(ka2);
	free(kb);
	free(kc);
}

Test(mc_key, names_the_text_protocol_cannot_carry_are_hashed)
{
	char *sp = mc_key("my ns:f", 7), *ctl = mc_key("ns\n:f", 5), *empty = mc_key("", 0);
	cr_expect_eq(strncmp(sp, "#h:", 3), 0);
	cr_expect_eq(strncmp(ctl, "#h:", 3), 0);
	cr_expect_eq(strncmp(empty, "#h:", 3), 0);
	cr_expect_null(strpbrk(sp, " \r\n"));
	free(sp);
	free(ctl);
	free(empty);
}
