/* The ldmemo command, run as a user runs it: exit codes and output lines of
 * `symbols`, `check`, --help/--version and run mode. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/defaults.h"
#include "helpers.h"

/* The variables a caller's environment could leak into the command. */
#define CLEAN_ENV "LDMEMO_CONFIG", "LDMEMO_SHIM", "LD_PRELOAD", "LDMEMO_STATS", "LDMEMO_LOG"

static char *out;

static void setup(void)
{
	cr_assert_not_null(lm_tmpdir());
}

static void teardown(void)
{
	free(out);
	out = NULL;
	lm_tmpdir_remove();
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 30);

static int ldmemo(const char *const env[], const char *a1, const char *a2, const char *a3,
                  const char *a4, const char *a5)
{
	char *argv[] = {(char *)lm_built("ldmemo"),
	                (char *)a1,
	                (char *)a2,
	                (char *)a3,
	                (char *)a4,
	                (char *)a5,
	                NULL};

	free(out);
	out = NULL;
	return lm_run(argv, env, &out);
}

static const char *const clean[] = {CLEAN_ENV, NULL};

/* The line of OUT that contains every one of the words. */
static bool line_with(const char *w1, const char *w2, const char *w3)
{
	const char *line = out;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char *copy = strndup(line, len);
		bool ok =
		    strstr(copy, w1) && (!w2 || strstr(copy, w2)) && (!w3 || strstr(copy, w3));

		free(copy);
		if (ok)
			return true;
		line = end ? end + 1 : NULL;
	}
	return false;
}

/* ---- symbols ----------------------------------------------------------- */

Test(cli, symbols_lists_matching_functions)
{
	cr_assert_eq(ldmemo(clean, "symbols", lm_fixture("fix_pie"), "fix_*", NULL, NULL), 0, "%s",
	             out);
	cr_assert(line_with("fix_pie", "fix_square", "global"), "%s", out);
	cr_assert(line_with("fix_pie", "fix_static_helper", "local"), "%s", out);
	cr_assert(line_with("libfix.so", "fix_lib_func", "global"), "%s", out);
	cr_assert_null(strstr(out, "printf"), "the glob filters");
}

Test(cli, symbols_shows_versions)
{
	cr_assert_eq(ldmemo(clean, "symbols", lm_fixture("libfixver.so"), "fix_ver", NULL, NULL), 0,
	             "%s", out);
	cr_assert(line_with("fix_ver", "@@V2", NULL), "%s", out);
	cr_assert(line_with("fix_ver", "@V1", NULL), "%s", out);
}

Test(cli, symbols_of_a_non_elf_file_fails)
{
	const char *p = lm_write_file("notelf", "hello\n");

	cr_assert_eq(ldmemo(clean, "symbols", p, NULL, NULL, NULL), 1);
	cr_assert(strstr(out, "not an ELF"), "%s", out);
}

Test(cli, symbols_of_a_missing_file_fails)
{
	cr_assert_eq(ldmemo(clean, "symbols", "/nonexistent/x", NULL, NULL, NULL), 1);
	cr_assert(strstr(out, "/nonexistent/x"), "%s", out);
}

Test(cli, symbols_without_program_is_a_usage_error)
{
	cr_assert_eq(ldmemo(clean, "symbols", NULL, NULL, NULL, NULL), 2);
}

/* ---- check ------------------------------------------------------------- */

static const char *good_config(void)
{
	return lm_write_file("good.conf", "[cache fix_square]\n"
	                                  "signature = i64 fix_square(i64 x)\n"
	                                  "\n"
	                                  "[cache fix_lib_func]\n"
	                                  "signature = int fix_lib_func(int x)\n"
	                                  "\n"
	                                  "[type pair]\n"
	                                  "fields = i32 a, i64 b\n");
}

Test(cli, check_all_hookable_exits_0)
{
	const char *conf = good_config();

	cr_assert_eq(ldmemo(clean, "check", "-c", conf, lm_fixture("fix_pie"), NULL), 0, "%s", out);
	cr_assert(line_with("fix_square", "fix_pie", "detour"), "%s", out);
	cr_assert(line_with("fix_lib_func", "libfix.so", "detour"), "%s", out);
	cr_assert(line_with("fix_lib_func", "global", "0x"), "%s", out);
	cr_assert(line_with("fix_alias", "warning", NULL), "alias warned: %s", out);
	cr_assert(line_with("type pair", "sizeof 16", NULL), "%s", out);
}

Test(cli, check_reads_the_config_from_the_environment)
{
	char env[PATH_MAX + 32];
	const char *const e[] = {"LDMEMO_SHIM", "LD_PRELOAD", env, NULL};

	snprintf(env, sizeof(env), "LDMEMO_CONFIG=%s", good_config());
	cr_assert_eq(ldmemo(e, "check", lm_fixture("fix_nopie"), NULL, NULL, NULL), 0, "%s", out);
	cr_assert(line_with("fix_lib_func", "libfix.so", NULL), "%s", out);
}

Test(cli, check_unknown_function_exits_1)
{
	const char *conf = lm_write_file("unk.conf", "[cache fix_no_such]\n"
	                                             "signature = int fix_no_such(int x)\n");

	cr_assert_eq(ldmemo(clean, "check", "-c", conf, lm_fixture("fix_pie"), NULL), 1, "%s", out);
	cr_assert(line_with("fix_no_such", "not hookable", "not found"), "%s", out);
}

Test(cli, check_warns_about_clones_and_ifuncs)
{
	const char *conf = lm_write_file("cl.conf", "[cache fix_work]\n"
	                                            "signature = int fix_work(int x)\n"
	                                            "[cache fix_ifunc]\n"
	                                            "signature = int fix_ifunc(int x)\n");

	cr_assert_eq(ldmemo(clean, "check", "-c", conf, lm_fixture("fix_pie"), NULL), 0, "%s", out);
	cr_assert(line_with("warning", "fix_work.constprop.0", NULL), "%s", out);
	cr_assert(line_with("warning", "IFUNC", NULL), "%s", out);
}

Test(cli, check_falls_back_to_got_when_detour_is_refused)
{
	const char *conf = lm_write_file("tiny.conf", "[cache fix_tiny]\n"
	                                              "signature = int fix_tiny(int x)\n");

	cr_assert_eq(ldmemo(clean, "check", "-c", conf, lm_fixture("fix_pie"), NULL), 0, "%s", out);
	cr_assert(line_with("fix_tiny", "libfix.so", "got (detour refused:"), "%s", out);
}

Test(cli, check_forced_detour_that_cannot_be_done_exits_1)
{
	const char *conf = lm_write_file("tiny.conf", "[cache fix_tiny]\n"
	                                              "signature = int fix_tiny(int x)\n"
	                                              "hook = detour\n");

	cr_assert_eq(ldmemo(clean, "check", "-c", conf, lm_fixture("fix_pie"), NULL), 1, "%s", out);
	cr_assert(line_with("fix_tiny", "not hookable:", NULL), "%s", out);
}

Test(cli, check_got_for_a_static_function_exits_1)
{
	const char *conf = lm_write_file("st.conf", "[cache fix_static_helper]\n"
	                                            "signature = int fix_static_helper(int x)\n"
	                                            "hook = got\n");

	cr_assert_eq(ldmemo(clean, "check", "-c", conf, lm_fixture("fix_pie"), NULL), 1, "%s", out);
	cr_assert(line_with("fix_static_helper", "not hookable:", "static"), "%s", out);
}

Test(cli, check_config_error_exits_2_with_position)
{
	const char *conf = lm_write_file("bad.conf", "[cache f]\n"
	                                             "signature = int f(int x)\n"
	                                             "bogus_key = 1\n");
	char want[PATH_MAX + 16];

	cr_assert_eq(ldmemo(clean, "check", "-c", conf, lm_fixture("fix_pie"), NULL), 2, "%s", out);
	snprintf(want, sizeof(want), "%s:3:1: error:", conf);
	cr_assert(strstr(out, want), "want %s in: %s", want, out);
}

Test(cli, check_without_config_exits_2)
{
	cr_assert_eq(ldmemo(clean, "check", lm_fixture("fix_pie"), NULL, NULL, NULL), 2, "%s", out);
	cr_assert(strstr(out, "LDMEMO_CONFIG"), "%s", out);
}

Test(cli, check_of_a_non_elf_program_exits_1)
{
	const char *conf = good_config();
	const char *prog = lm_write_file("prog.sh", "#!/bin/sh\n");

	cr_assert_eq(ldmemo(clean, "check", "-c", conf, prog, NULL), 1, "%s", out);
	cr_assert(strstr(out, "not an ELF"), "%s", out);
}

/* ---- help, version, usage ---------------------------------------------- */

Test(cli, help_describes_every_subcommand)
{
	cr_assert_eq(ldmemo(clean, "--help", NULL, NULL, NULL, NULL), 0);
	cr_assert(strstr(out, "ldmemo check"), "%s", out);
	cr_assert(strstr(out, "ldmemo symbols"), "%s", out);
	cr_assert(strstr(out, "Exit status"), "%s", out);
	cr_assert(strstr(out, "LDMEMO_SHIM"), "%s", out);
}

Test(cli, version_prints_the_version)
{
	cr_assert_eq(ldmemo(clean, "--version", NULL, NULL, NULL, NULL), 0);
	cr_assert(strstr(out, LDMEMO_VERSION), "%s", out);
}

Test(cli, unknown_option_exits_2)
{
	cr_assert_eq(ldmemo(clean, "--no-such-option", "/usr/bin/env", NULL, NULL, NULL), 2);
	cr_assert(strstr(out, "--help"), "%s", out);
}

Test(cli, bad_stats_format_exits_2)
{
	cr_assert_eq(ldmemo(clean, "-f", "xml", "/usr/bin/env", NULL, NULL), 2, "%s", out);
}

/* ---- run mode ---------------------------------------------------------- */

/* A stand-in shim: any loadable library shows where LD_PRELOAD puts it. */
static const char *fake_shim_env(void)
{
	static char env[PATH_MAX + 16];

	snprintf(env, sizeof(env), "LDMEMO_SHIM=%s", lm_fixture("libfix.so"));
	return env;
}

static char *real(const char *path)
{
	static char buf[PATH_MAX];

	cr_assert_not_null(realpath(path, buf), "%s", path);
	return buf;
}

/* How often NEEDLE occurs in the LD_PRELOAD line of OUT. */
static int count_in_preload(const char *needle)
{
	const char *line =
	    strncmp(out, "LD_PRELOAD=", 11) == 0 ? out : strstr(out, "\nLD_PRELOAD=");
	const char *end;
	int n = 0;

	cr_assert_not_null(line, "%s", out);
	line += *line == '\n';
	end = strchr(line, '\n');
	for (const char *p = line; (p = strstr(p, needle)) != NULL && (!end || p < end);
	     p += strlen(needle))
		n++;
	return n;
}

Test(cli, run_sets_the_environment_and_preloads_the_shim)
{
	const char *const e[] = {"LDMEMO_CONFIG", "LD_PRELOAD", fake_shim_env(), NULL};
	char want[PATH_MAX + 16];
	/* The wrapper opens the config before exec: it must exist. */
	char conf[] = "/tmp/lm_app_XXXXXX";
	int fd = mkstemp(conf);
	cr_assert_geq(fd, 0);
	close(fd);
	char *argv[] = {(char *)lm_built("ldmemo"),
	                "-c",
	                conf,
	                "-s",
	                "stderr",
	                "-f",
	                "json",
	                "-v",
	                "--strict",
	                "--verify",
	                "--",
	                "/usr/bin/env",
	                NULL};

	cr_assert_eq(lm_run(argv, e, &out), 0, "%s", out);
	snprintf(want, sizeof(want), "LD_PRELOAD=%s\n", real(lm_fixture("libfix.so")));
	cr_assert(strstr(out, want), "want %s in: %s", want, out);
	snprintf(want, sizeof(want), "LDMEMO_CONFIG=%s\n", conf);
	unlink(conf);
	cr_assert(strstr(out, want), "%s", out);
	cr_assert(strstr(out, "LDMEMO_STATS=stderr\n"), "%s", out);
	cr_assert(strstr(out, "LDMEMO_STATS_FORMAT=json\n"), "%s", out);
	cr_assert(strstr(out, "LDMEMO_LOG=info\n"), "%s", out);
	cr_assert(strstr(out, "LDMEMO_STRICT=1\n"), "%s", out);
	cr_assert(strstr(out, "LDMEMO_MODE=verify\n"), "%s", out);
}

Test(cli, run_keeps_existing_preloads_after_the_shim)
{
	char old[PATH_MAX + 16], want[PATH_MAX * 2 + 32];
	const char *const e[] = {"LDMEMO_CONFIG", fake_shim_env(), old, NULL};

	snprintf(old, sizeof(old), "LD_PRELOAD=%s", lm_fixture("libfixver.so"));
	cr_assert_eq(ldmemo(e, "/usr/bin/env", NULL, NULL, NULL, NULL), 0, "%s", out);
	snprintf(want, sizeof(want), "LD_PRELOAD=%s:%s\n", real(lm_fixture("libfix.so")),
	         lm_fixture("libfixver.so"));
	cr_assert(strstr(out, want), "want %s in: %s", want, out);
}

Test(cli, run_nested_adds_the_shim_once)
{
	const char *const e[] = {"LDMEMO_CONFIG", "LD_PRELOAD", fake_shim_env(), NULL};
	const char *shim = real(lm_fixture("libfix.so"));

	cr_assert_eq(ldmemo(e, "--", lm_built("ldmemo"), "--", "/usr/bin/env", NULL), 0, "%s", out);
	cr_assert(line_with("LD_PRELOAD=", shim, NULL), "%s", out);
	cr_assert_eq(count_in_preload("libfix.so"), 1, "%s", out);
}

Test(cli, run_missing_program_exits_127)
{
	const char *const e[] = {"LDMEMO_CONFIG", "LD_PRELOAD", fake_shim_env(), NULL};

	cr_assert_eq(ldmemo(e, "ldmemo-no-such-program-here", NULL, NULL, NULL, NULL), 127, "%s",
	             out);
}

Test(cli, run_without_a_shim_exits_125)
{
	const char *const e[] = {"LDMEMO_CONFIG", "LD_PRELOAD", "LDMEMO_SHIM=/nonexistent/x.so",
	                         NULL};

	cr_assert_eq(ldmemo(e, "/usr/bin/env", NULL, NULL, NULL, NULL), 125, "%s", out);
	cr_assert(strstr(out, "shim"), "%s", out);
}

/* The real shim, found next to the binary (make test builds it first). */
Test(cli, run_finds_the_shim_next_to_ldmemo)
{
	char want[PATH_MAX + 16];

	cr_assert_eq(ldmemo(clean, "--", lm_built("ldmemo"), "/usr/bin/env", NULL, NULL), 0, "%s",
	             out);
	snprintf(want, sizeof(want), "LD_PRELOAD=%s\n", real(lm_built("libldmemo.so")));
	cr_assert(strstr(out, want), "want %s in: %s", want, out);
}

/* The done-when of the foundation: the specification's example config
 * against a program that defines those functions. */
Test(cli, check_the_specifications_example)
{
	cr_assert_eq(ldmemo(clean, "check", "-c", "tests/config/fixtures/spec_example.conf",
	                    lm_fixture("userdb/app"), NULL),
	             0, "%s", out);
	cr_assert(line_with("get_user", "libuserdb.so", "detour"), "%s", out);
	cr_assert(line_with("user_name", "libuserdb.so", "detour"), "%s", out);
	cr_assert(line_with("update_user", "libuserdb.so", "detour"), "%s", out);
	cr_assert(line_with("list_dept", "libuserdb.so", "detour"), "%s", out);
	cr_assert(line_with("crypt", "libcrypt", NULL), "%s", out);
	cr_assert(line_with("getpwuid", "libc.so", NULL), "%s", out);
	cr_assert(line_with("type passwd", "sizeof 48", NULL), "%s", out);
	cr_assert(line_with("type tm", "sizeof 56", NULL), "%s", out);
}
