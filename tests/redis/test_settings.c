/* The tier's settings are versioned: the shim's front and each plugin
 * refuse a layout they were not built for, with a message, instead of
 * misreading it. No server is needed: the check comes first. */
#include <criterion/criterion.h>
#include <string.h>

#include "shim/tier/l2_internal.h"

static struct lm_l2_params params(enum lm_tier_kind kind, uint32_t version, uint32_t size)
{
	static const struct lm_tier_server local = {"127.0.0.1", 1};
	static const struct lm_l2_method m = {"f", 1, true};
	return (struct lm_l2_params){
	    .settings = {.version = version,
	                 .size = size,
	                 .kind = kind,
	                 .servers = &local,
	                 .nservers = 1,
	                 .timeout_ms = 50},
	    .namespace_ = "lmtest",
	    .methods = &m,
	    .nmethods = 1,
	};
}

Test(tier_settings, another_version_is_refused_by_the_front_and_by_each_plugin)
{
	const uint32_t size = sizeof(struct lm_tier_settings);
	const struct {
		uint32_t version, size;
	} bad[] = {{LM_TIER_SETTINGS_VERSION + 1, size}, {LM_TIER_SETTINGS_VERSION, size - 8}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct lm_l2_params p = params(LM_TIER_REDIS, bad[i].version, bad[i].size);
		char why[256] = "";
		cr_expect_null(lm_l2_open(&p, why, sizeof why));
		cr_expect(strstr(why, "settings version") != NULL, "front: %s", why);
		why[0] = '\0';
		cr_expect_null(lm_l2_redis_open(&p, why, sizeof why));
		cr_expect(strstr(why, "settings version") != NULL, "redis: %s", why);
	}
}
