/* The run mode of the command (issue 20, wrapper noise): the config is
 * settled before exec, so that every child finds it and a bad one stops
 * here with a reason instead of running PROGRAM with nothing cached. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

static const char conf[] = "[cache no_such_function]\nsignature = int no_such_function(int x)\n";

/* A relative -c is made absolute: a child that changes directory still
 * finds the config. */
Test(wrapper, relative_config_is_made_absolute)
{
	char *dir = cli_tempdir();
	cli_write(dir, "app.conf", conf);
	const char *argv[] = {
	    "-c", "app.conf", "--", "/bin/sh", "-c", "cd / && echo \"$LDMEMO_CONFIG\"", NULL};
	struct cli_run r = cli_run(dir, NULL, argv);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char want[512];
	snprintf(want, sizeof(want), "%s/app.conf\n", dir);
	cr_expect_str_eq(r.out, want);
	cli_free(&r);
	free(dir);
}

Test(wrapper, missing_config_stops_before_exec_with_125)
{
	char *dir = cli_tempdir();
	const char *argv[] = {"-c", "nonexist.conf", "--", "/bin/sh", "-c", "echo ran", NULL};
	struct cli_run r = cli_run(dir, NULL, argv);
	cr_expect_eq(r.status, 125);
	cr_expect_str_empty(r.out, "PROGRAM ran: %s", r.out);
	cr_expect(strstr(r.err, "ldmemo: nonexist.conf: cannot read the config: No such file") ==
	              r.err,
	          "%s", r.err);
	cli_free(&r);
	free(dir);
}

Test(wrapper, unreadable_config_stops_before_exec_with_125)
{
	char *dir = cli_tempdir();
	const char *argv[] = {"-c", dir, "--", "/bin/sh", "-c", "echo ran", NULL};
	struct cli_run r = cli_run(NULL, NULL, argv);
	cr_expect_eq(r.status, 125);
	cr_expect_str_empty(r.out, "PROGRAM ran: %s", r.out);
	cr_expect(strstr(r.err, "the config is not a regular file") != NULL, "%s", r.err);
	cli_free(&r);
	free(dir);
}

Test(wrapper, no_config_says_nothing_will_be_cached)
{
	const char *argv[] = {"/bin/sh", "-c", "echo ran", NULL};
	struct cli_run r = cli_run(NULL, NULL, argv);
	cr_expect_eq(r.status, 0);
	cr_expect_str_eq(r.out, "ran\n");
	cr_expect(strstr(r.err, "ldmemo: no config") == r.err, "%s", r.err);
	cr_expect(strstr(r.err, "nothing will be cached") != NULL, "%s", r.err);
	cli_free(&r);
	/* From the environment it is a config like -c's. */
	char *dir = cli_tempdir();
	cli_write(dir, "app.conf", conf);
	char env0[600];
	snprintf(env0, sizeof(env0), "LDMEMO_CONFIG=%s/app.conf", dir);
	const char *env[] = {env0, NULL};
	r = cli_run(NULL, env, argv);
	cr_expect_eq(r.status, 0);
	cr_expect_null(strstr(r.err, "nothing will be cached"), "%s", r.err);
	cli_free(&r);
	free(dir);
}

Test(wrapper, stats_signal_option_sets_the_variable)
{
	char *dir = cli_tempdir();
	cli_write(dir, "app.conf", conf);
	const char *argv[] = {"-c",
	                      "app.conf",
	                      "--stats-signal",
	                      "USR1",
	                      "--",
	                      "/bin/sh",
	                      "-c",
	                      "echo \"$LDMEMO_STATS_SIGNAL\"",
	                      NULL};
	struct cli_run r = cli_run(dir, NULL, argv);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "USR1\n");
	cli_free(&r);
	const char *bad[] = {"--stats-signal", "KILL", "/bin/true", NULL};
	r = cli_run(dir, NULL, bad);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "ldmemo: --stats-signal: 'KILL' is not a signal") == r.err, "%s",
	          r.err);
	cli_free(&r);
	free(dir);
}

/* fd:abc and fd:-1 used to be accepted and to fail only at exit. */
Test(wrapper, bad_stats_destination_is_a_usage_error)
{
	static const char *const dests[] = {"fd:abc", "fd:-1", "fd:", ""};
	for (size_t i = 0; i < sizeof(dests) / sizeof(dests[0]); i++) {
		const char *argv[] = {"-s", dests[i], "/bin/true", NULL};
		struct cli_run r = cli_run(NULL, NULL, argv);
		cr_expect_eq(r.status, 2, "-s '%s'", dests[i]);
		cr_expect(strstr(r.err, "is not a destination") != NULL, "%s", r.err);
		cli_free(&r);
	}
}
