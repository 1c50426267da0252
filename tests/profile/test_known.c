/* ldmemo's table of known functions is read by the config parser, and
 * says the ownership of each result the profile relies on. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"

static struct lm_config cfg;

static void load(void)
{
	struct lm_diags d = {0};
	char path[1024];
	snprintf(path, sizeof path, "%s/config/known/libc.conf", getenv("PWD"));
	int rc = lm_config_load(path, &cfg, &d);
	for (size_t i = 0; i < d.n; i++)
		cr_log_error("%d:%d: %s", d.v[i].pos.line, d.v[i].pos.col, d.v[i].msg);
	cr_assert_eq(rc, 0, "the table parses without errors");
	cr_assert_eq(d.n, 0, "nor warnings");
	lm_diags_free(&d);
}

static void unload(void)
{
	lm_config_free(&cfg);
}

static const struct lm_method *method(const char *name)
{
	int i = lm_config_find_method(&cfg, name);
	cr_assert_geq(i, 0, "%s is in the table", name);
	cr_assert_not(cfg.methods[i].broken);
	return &cfg.methods[i];
}

TestSuite(known, .init = load, .fini = unload);

Test(known, ownership_of_results)
{
	cr_assert_eq(method("getpwuid")->sig.ret.how, LM_RET_STATIC_TYPE);
	cr_assert_eq(method("localtime")->sig.ret.how, LM_RET_STATIC_TYPE);
	cr_assert_eq(method("strerror")->sig.ret.how, LM_RET_STATIC_STR);
	cr_assert_eq(method("crypt")->sig.ret.how, LM_RET_STATIC_STR);
	cr_assert_eq(method("crypt_r")->sig.ret.how, LM_RET_PARAM);
	cr_assert_eq(method("localtime_r")->sig.ret.how, LM_RET_PARAM);
	cr_assert_eq(method("log")->sig.ret.how, LM_RET_VALUE);
	cr_assert_eq(method("log")->sig.ret.kind, LM_K_F64);
	cr_assert_eq(method("sqlite3_errstr")->sig.ret.kind, LM_K_PTR);
}

Test(known, libraries_covered)
{
	cr_assert_str_eq(method("exp")->object, "libm.so.6");
	cr_assert_str_eq(method("crypt_r")->object, "libcrypt.so.1");
	cr_assert_str_eq(method("PKCS5_PBKDF2_HMAC")->object, "libcrypto.so.3");
	cr_assert_str_eq(method("SSL_alert_desc_string_long")->object, "libssl.so.3");
	cr_assert_str_eq(method("sqlite3_errstr")->object, "libsqlite3.so.0");
	cr_assert_eq(method("ttyname")->mode, LM_MODE_VERIFY);
}
