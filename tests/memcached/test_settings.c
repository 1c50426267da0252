/* The memcached plugin refuses settings of another layout (see
 * tests/redis/test_settings.c for the front and the Redis plugin). */
#include <criterion/criterion.h>
#include <string.h>

#include "shim/tier/l2_internal.h"

Test(tier_settings, the_memcached_plugin_refuses_another_version)
{
	static const struct lm_tier_server local = {"127.0.0.1", 1};
	static const struct lm_l2_method m = {"f", 1, true};
	struct lm_l2_params p = {
	    .settings = {.version = LM_TIER_SETTINGS_VERSION + 1,
	                 .size = sizeof(struct lm_tier_settings),
	                 .kind = LM_TIER_MEMCACHED,
	                 .servers = &local,
	                 .nservers = 1},
	    .namespace_ = "lmtest",
	    .methods = &m,
	    .nmethods = 1,
	};
	char why[256] = "";
	cr_expect_null(lm_l2_memcached_open(&p, why, sizeof why));
	cr_expect(strstr(why, "settings version") != NULL, "%s", why);
}
