/* Every message of the command starts with "ldmemo:" (issue 20): getopt's
 * own ("check: unrecognized option") and a config's diagnostics too. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

static void expect_every_line_prefixed(const char *err)
{
	const char *line = err;
	cr_expect(*err, "no message at all");
	while (*line) {
		cr_expect(strncmp(line, "ldmemo: ", 8) == 0 || strncmp(line, "usage:", 6) == 0 ||
		              strncmp(line, "       ldmemo", 13) == 0 ||
		              strncmp(line, "Try 'ldmemo --help'", 19) == 0,
		          "line without the prefix: %s", line);
		const char *nl = strchr(line, '\n');
		line = nl ? nl + 1 : line + strlen(line);
	}
}

Test(messages, unknown_options_of_each_subcommand)
{
	static const char *const cmds[] = {"check", "symbols", "stats", "ctl"};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *argv[] = {cmds[i], "--bogus", "x", NULL};
		struct cli_run r = cli_run(NULL, NULL, argv);
		cr_expect_eq(r.status, 2, "%s", cmds[i]);
		expect_every_line_prefixed(r.err);
		cli_free(&r);
	}
	const char *argv[] = {"check", "-c", NULL};
	struct cli_run r = cli_run(NULL, NULL, argv);
	cr_expect_eq(r.status, 2);
	expect_every_line_prefixed(r.err);
	cli_free(&r);
}

Test(messages, check_config_errors)
{
	char *dir = cli_tempdir();
	cli_write(dir, "bad.conf", "[cache f]\nsignature = int f(int x\n");
	char conf[600];
	snprintf(conf, sizeof(conf), "%s/bad.conf", dir);
	const char *argv[] = {"check", "-c", conf, "/bin/true", NULL};
	struct cli_run r = cli_run(NULL, NULL, argv);
	cr_expect_eq(r.status, 2);
	expect_every_line_prefixed(r.err);
	cr_expect(strstr(r.err, "bad.conf:2:") != NULL, "%s", r.err);
	cli_free(&r);
	free(dir);
}

Test(messages, stats_file_errors)
{
	const char *argv[] = {"stats", "/nonexistent/dump.json", NULL};
	struct cli_run r = cli_run(NULL, NULL, argv);
	cr_expect_eq(r.status, 1);
	expect_every_line_prefixed(r.err);
	cli_free(&r);
}

/* check: a misspelt function name gets a did-you-mean from the symbols
 * of the program and its libraries. */
Test(messages, check_suggests_the_nearest_name)
{
	char *dir = cli_tempdir();
	cli_write(dir, "app.conf", "[cache strln]\nsignature = u64 strln(str s)\n");
	char conf[600];
	snprintf(conf, sizeof(conf), "%s/app.conf", dir);
	const char *argv[] = {"check", "-c", conf, "/bin/true", NULL};
	struct cli_run r = cli_run(NULL, NULL, argv);
	cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
	cr_expect(strstr(r.out, "did you mean 'strlen'?") != NULL, "%s", r.out);
	cli_free(&r);
	free(dir);
}
