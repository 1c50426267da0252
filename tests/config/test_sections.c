/* The file's shape (spec 3.1): headers, keys, comments, names, and the
 * per-method keys of [cache] and [invalidate]. */
#include "helpers.h"

Test(syntax, comments_blank_lines_and_crlf)
{
	struct parsed p;
	expect_clean(&p, "# a comment\r\n"
	                 "; another\r\n"
	                 "   \t\r\n"
	                 "[global]   # trailing comment\r\n"
	                 "  ttl = 3s ; comment after blank\r\n"
	                 "namespace = a#b\r\n");
	cr_expect_eq(p.cfg.global.ttl_ms, 3000);
	/* '#' not after a blank belongs to the value. */
	cr_expect_str_eq(p.cfg.global.namespace_, "a#b");
	parsed_free(&p);
}

Test(syntax, line_without_equals)
{
	expect_error("[global]\nttl 5m\n", 2, 1, "expected 'key = value' or a [section] header");
}

Test(syntax, missing_key_and_missing_value)
{
	expect_error("[global]\n = 5m\n", 2, 2, "missing key before '='");
	expect_error("[global]\nttl =   # nothing\n", 2, 6, "missing value for 'ttl'");
}

Test(syntax, invalid_key_characters)
{
	expect_error("[global]\nmax-entries = 5\n", 2, 1, "invalid key 'max-entries'");
}

Test(syntax, key_outside_a_section)
{
	expect_error("ttl = 5m\n[global]\n", 1, 1, "key 'ttl' outside a section");
}

Test(sections, unknown_section_kind)
{
	expect_error("[cahce foo]\nsignature = int foo(void)\n", 1, 2,
	             "unknown section 'cahce' (expected global, type, cache or invalidate)");
}

Test(sections, truncated_header)
{
	expect_error("[cache foo\nsignature = int foo(void)\n", 1, 1,
	             "missing ']' in section header");
}

Test(sections, text_after_header)
{
	expect_error("[global] x\n", 1, 10, "unexpected text after ']'");
	expect_error("[cache a b]\n", 1, 10, "unexpected 'b' in section header");
	expect_error("[]\n", 1, 1, "empty section header");
}

Test(sections, names_are_checked)
{
	expect_error("[cache]\n", 1, 7, "missing name in [cache]");
	expect_error("[global x]\n", 1, 9, "[global] takes no name");
	expect_error("[cache 9lives]\nsignature = int 9lives(void)\n", 1, 8,
	             "invalid function name '9lives'");
	expect_error("[type a@V1]\nfields = i32 x\n", 1, 7, "invalid type name 'a@V1'");
	expect_error("[type int]\nfields = i32 x\n", 1, 7,
	             "'int' is a built-in kind, not a type name");
}

Test(sections, one_global_only)
{
	expect_error("[global]\nttl = 1s\n[global]\nttl = 2s\n", 3, 1,
	             "duplicate [global] section (first at line 1)");
}

Test(sections, a_name_in_one_section_only)
{
	expect_error("[cache f]\nsignature = int f(void)\n"
	             "[invalidate f]\nsignature = int f(void)\ndrop = *\n",
	             3, 13, "'f' is already defined at line 1");
}

Test(sections, type_and_function_may_share_a_name)
{
	struct parsed p;
	expect_clean(&p, "[type stat]\nfields = u64 dev, u64 ino\n"
	                 "[cache stat]\nsignature = int stat(str path, out(stat) st)\n");
	cr_expect_eq(p.cfg.methods[0].sig.params[1].size.kind, LM_SZ_TYPE);
	parsed_free(&p);
}

Test(sections, version_is_split_off)
{
	struct parsed p;
	expect_clean(&p, "[cache stat@GLIBC_2.33]\nsignature = int stat(str p, out(144) st)\n");
	cr_assert_eq(p.cfg.nmethods, 1);
	cr_expect_str_eq(p.cfg.methods[0].name, "stat");
	cr_expect_str_eq(p.cfg.methods[0].version, "GLIBC_2.33");
	cr_expect_eq(lm_config_find_method(&p.cfg, "stat"), 0);
	parsed_free(&p);
}

Test(sections, signature_name_must_match_without_version)
{
	expect_error("[cache stat@GLIBC_2.33]\nsignature = int stat64(str p)\n", 2, 17,
	             "signature names 'stat64' but the section is [cache stat]");
}

Test(keys, unknown_key_suggests_a_near_one)
{
	expect_error("[cache get_user]\nsignature = int get_user(i64 id)\ntll = 5m\n", 3, 1,
	             "unknown key 'tll' in [cache get_user] (did you mean 'ttl'?)");
	expect_error("[global]\nfrobnicate = 1\n", 2, 1, "unknown key 'frobnicate' in [global]");
}

Test(keys, key_of_another_section_kind_is_unknown)
{
	expect_error("[cache f]\nsignature = int f(void)\ndrop = *\n", 3, 1,
	             "unknown key 'drop' in [cache f]");
	expect_error("[invalidate w]\nsignature = int w(void)\ndrop = *\nttl = 5s\n", 4, 1,
	             "unknown key 'ttl' in [invalidate w]");
}

Test(keys, duplicate_key)
{
	expect_error("[cache f]\nsignature = int f(void)\nttl = 1s\nttl = 2s\n", 4, 1,
	             "duplicate key 'ttl' in [cache f] (first at line 3)");
}

/* Each section's keys are its own (the parser keeps them in one list): the
 * same key in the next section is no duplicate, and each gets its value,
 * also after a section that had none. */
Test(keys, the_same_key_in_two_sections_is_each_ones_own)
{
	struct parsed p;
	expect_clean(&p, "[cache f]\nsignature = int f(int x)\nttl = 1s\n"
	                 "[type t]\nfields = i32 a\n"
	                 "[cache g]\nsignature = int g(int x)\n"
	                 "[cache h]\nttl = 3s\nsignature = int h(int x)\n");
	cr_assert_eq(p.cfg.nmethods, 3);
	cr_expect_eq(p.cfg.methods[0].ttl_ms, 1000);
	cr_expect_eq(p.cfg.methods[1].ttl_ms, LM_DUR_UNSET);
	cr_expect_eq(p.cfg.methods[2].ttl_ms, 3000);
	cr_expect_str_eq(p.cfg.methods[2].name, "h");
	parsed_free(&p);
}

Test(keys, required_keys)
{
	expect_error("[cache f]\nttl = 1s\n", 1, 1, "missing 'signature' in [cache f]");
	expect_error("[invalidate w]\nsignature = int w(void)\n", 1, 1,
	             "missing 'drop' in [invalidate w]");
	expect_error("[invalidate w]\ndrop = *\n", 1, 1, "missing 'signature' in [invalidate w]");
	expect_error("[type t]\n", 1, 1, "missing 'fields' in [type t]");
}

Test(keys, cache_method_defaults)
{
	struct parsed p;
	expect_clean(&p, "[global]\nttl = 7s\nhook = detour\ncoalesce = off\n"
	                 "[cache f]\nsignature = int f(int x)\n");
	const struct lm_method *m = &p.cfg.methods[0];
	cr_expect_eq(m->ttl_ms, LM_DUR_UNSET);
	cr_expect_eq(lm_method_ttl_ms(&p.cfg, m), 7000);
	cr_expect_eq(m->negative_ttl_ms, 0);
	cr_expect_eq(m->stale_if_error_ms, 0);
	cr_expect_null(m->when);
	cr_expect_null(m->object);
	cr_expect_not(m->hook_set);
	cr_expect_eq(lm_method_hook(&p.cfg, m), LM_HOOK_DETOUR);
	cr_expect_eq(m->coalesce, LM_UNSET);
	cr_expect_not(lm_method_coalesce(&p.cfg, m));
	cr_expect_eq(m->max_entries, 0);
	cr_expect_eq(m->mode, LM_MODE_CACHE);
	cr_expect_not(m->invalidator);
	cr_expect_not(m->broken);
	cr_expect_null(m->version);
	cr_expect_eq(m->pos.line, 5);
	cr_expect_eq(m->pos.col, 1);
	parsed_free(&p);
}

Test(keys, every_cache_key)
{
	struct parsed p;
	expect_clean(&p, "[cache f]\n"
	                 "signature = int f(int x)\n"
	                 "ttl = 0\n"
	                 "negative_ttl = 2s\n"
	                 "stale_if_error = 1m\n"
	                 "when = ret >= 0\n"
	                 "object = libf.so\n"
	                 "hook = got\n"
	                 "coalesce = on\n"
	                 "max_entries = 100\n"
	                 "mode = verify\n");
	const struct lm_method *m = &p.cfg.methods[0];
	cr_expect_eq(m->ttl_ms, 0);
	cr_expect_eq(lm_method_ttl_ms(&p.cfg, m), 0);
	cr_expect_eq(m->negative_ttl_ms, 2000);
	cr_expect_eq(m->stale_if_error_ms, 60000);
	cr_expect_not_null(m->when);
	cr_expect_str_eq(m->object, "libf.so");
	cr_expect(m->hook_set);
	cr_expect_eq(lm_method_hook(&p.cfg, m), LM_HOOK_GOT);
	cr_expect_eq(m->coalesce, LM_ON);
	cr_expect(lm_method_coalesce(&p.cfg, m));
	cr_expect_eq(m->max_entries, 100);
	cr_expect_eq(m->mode, LM_MODE_VERIFY);
	parsed_free(&p);
}

Test(keys, bad_cache_values)
{
	expect_error("[cache f]\nsignature = int f(void)\nmode = fast\n", 3, 8,
	             "invalid mode 'fast' (use cache or verify)");
	expect_error("[cache f]\nsignature = int f(void)\nnegative_ttl = 2 s\n", 3, 16,
	             "invalid duration '2 s' (use never, or a number with ms, s, m, h or d)");
	expect_error("[cache f]\nsignature = int f(void)\nobject = lib a.so\n", 3, 13,
	             "blank inside object 'lib a.so'");
}

Test(keys, every_invalidate_key)
{
	struct parsed p;
	expect_clean(&p, "[cache g]\nsignature = int g(int x)\n"
	                 "[invalidate w]\n"
	                 "signature = int w(int x)\n"
	                 "drop = g(x)\n"
	                 "when = ret == 0\n"
	                 "object = libw.so\n"
	                 "hook = detour\n");
	const struct lm_method *m = &p.cfg.methods[1];
	cr_expect(m->invalidator);
	cr_expect_eq(m->ndrops, 1);
	cr_expect_not_null(m->when);
	cr_expect_str_eq(m->object, "libw.so");
	cr_expect_eq(lm_method_hook(&p.cfg, m), LM_HOOK_DETOUR);
	parsed_free(&p);
}

Test(broken, an_error_breaks_only_its_section)
{
	struct parsed p;
	parse_text(&p, "[cache good]\nsignature = int good(int x)\n"
	               "[cache bad]\nsignature = int bad(int x)\nttl = soon\n"
	               "[cache also_good]\nsignature = int also_good(void)\n");
	cr_expect_eq(p.rc, 1);
	cr_assert_eq(p.cfg.nmethods, 3);
	cr_expect_not(p.cfg.methods[0].broken);
	cr_expect(p.cfg.methods[1].broken);
	cr_expect_not(p.cfg.methods[2].broken);
	parsed_free(&p);
}

Test(broken, unknown_key_breaks_its_section)
{
	struct parsed p;
	parse_text(&p, "[cache f]\nsignature = int f(void)\nttk = 1s\n");
	cr_expect_eq(p.rc, 1);
	cr_expect(p.cfg.methods[0].broken);
	parsed_free(&p);
}

Test(diag, format_has_file_line_column)
{
	struct parsed p;
	char buf[256];
	parse_text(&p, "[global]\nttl = 5x\n");
	cr_assert_eq(p.d.n, 1);
	lm_diag_format(&p.cfg, &p.d.v[0], buf, sizeof(buf));
	cr_expect_str_eq(buf, "t.conf:2:7: error: invalid duration '5x' (use never, or a number "
	                      "with ms, s, m, h or d)");
	p.d.v[0].warning = true;
	lm_diag_format(&p.cfg, &p.d.v[0], buf, 25);
	cr_expect_str_eq(buf, "t.conf:2:7: warning: inv");
	parsed_free(&p);
}

Test(diag, every_error_is_reported_in_line_order)
{
	struct parsed p;
	parse_text(&p, "[invalidate w]\nsignature = int w(int x)\ndrop = nothere\n"
	               "[global]\nttl = 5x\nhook = plt\n"
	               "[cache f]\nsignature = int f(bogus)\n");
	cr_assert_eq(p.d.n, 4);
	cr_expect_eq(p.rc, 4);
	for (size_t i = 0; i + 1 < p.d.n; i++)
		cr_expect_lt(p.d.v[i].pos.line, p.d.v[i + 1].pos.line);
	cr_expect_str_eq(p.d.v[0].msg, "drop target 'nothere' is not a [cache] section");
	cr_expect_str_eq(p.d.v[3].msg, "unknown parameter kind 'bogus'");
	parsed_free(&p);
}

Test(load, missing_file_is_one_error_at_zero)
{
	struct lm_config cfg;
	struct lm_diags d = {0};
	char buf[256];
	int rc = lm_config_load("tests/config/fixtures/does-not-exist.conf", &cfg, &d);
	cr_expect_eq(rc, 1);
	cr_assert_eq(d.n, 1);
	cr_expect_eq(d.v[0].pos.line, 0);
	cr_expect_eq(d.v[0].pos.col, 0);
	lm_diag_format(&cfg, &d.v[0], buf, sizeof(buf));
	cr_expect_str_eq(buf, "tests/config/fixtures/does-not-exist.conf: error: cannot read "
	                      "config: No such file or directory");
	cr_expect_eq(cfg.nmethods, 0);
	lm_config_free(&cfg);
	lm_diags_free(&d);
}

/* A directory given as the config says so (it used to say "file too large
 * or out of memory"). */
Test(load, a_directory_says_it_is_one)
{
	struct lm_config cfg;
	struct lm_diags d = {0};
	char buf[256];
	int rc = lm_config_load("tests/config/fixtures", &cfg, &d);
	cr_expect_eq(rc, 1);
	cr_assert_eq(d.n, 1);
	lm_diag_format(&cfg, &d.v[0], buf, sizeof(buf));
	cr_expect_str_eq(buf, "tests/config/fixtures: error: cannot read config: Is a directory");
	lm_config_free(&cfg);
	lm_diags_free(&d);
}
