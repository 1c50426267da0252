/* `ldmemo ctl` against a live process (spec sections 7 and 8): statistics
 * and invalidation over the control socket, the exit statuses, where the
 * socket lives and when it goes, clients that misbehave, and fork. */
#include <criterion/criterion.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static const struct fx_opts on = {.control = true};

#define CTL(pid, ...) run_ctl(pid, (const char *const[]){__VA_ARGS__, NULL})

Test(ctl, stats_json_is_the_live_process)
{
	struct fx f;
	fx_start(&f, &on);
	fx_cmd(&f, "square 3");
	fx_cmd(&f, "square 3");
	struct run r = CTL(f.pid, "stats", "-f", "json");
	cr_assert_eq(r.status, 0, "%s", r.err);
	char pid[32];
	snprintf(pid, sizeof pid, "\"pid\":%d,", (int)f.pid);
	cr_expect(strstr(r.out, pid) != NULL, "%s", r.out);
	const char *m = strstr(r.out, "{\"name\":\"ctl_square\"");
	cr_assert(m != NULL, "%s", r.out);
	cr_expect(strstr(m, "\"calls\":2,\"hits\":1,\"misses\":1") != NULL, "%s", m);
	run_free(&r);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, stats_defaults_to_text_and_takes_prom)
{
	struct fx f;
	fx_start(&f, &on);
	struct run r = CTL(f.pid, "stats");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "statistics for ") != NULL, "%s", r.out);
	run_free(&r);
	r = CTL(f.pid, "stats", "--format=prom");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "ldmemo_calls_total{") != NULL, "%s", r.out);
	run_free(&r);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, invalidate_a_key_makes_only_that_call_miss)
{
	struct fx f;
	fx_start(&f, &on);
	fx_cmd(&f, "square 42");
	fx_cmd(&f, "square 7");
	cr_assert_eq(field(fx_cmd(&f, "square 42"), "runs"), 2, "the second call is a hit");
	struct run r = CTL(f.pid, "invalidate", "ctl_square", "42");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "1 entry dropped\n");
	run_free(&r);
	cr_expect_eq(field(fx_cmd(&f, "square 42"), "runs"), 3, "dropped: a miss");
	cr_expect_eq(field(fx_cmd(&f, "square 7"), "runs"), 3, "another key stays cached");
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, wrong_value_count_is_an_error_and_drops_nothing)
{
	struct fx f;
	fx_start(&f, &on);
	fx_cmd(&f, "square 42");
	struct run r = CTL(f.pid, "invalidate", "ctl_square", "\"x\"", "1");
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "ctl_square has 1 key parameter, 2 values given") != NULL, "%s",
	          r.err);
	run_free(&r);
	cr_expect_eq(field(fx_cmd(&f, "square 42"), "runs"), 1, "still cached");
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, wrong_value_kind_is_an_error)
{
	struct fx f;
	fx_start(&f, &on);
	struct run r = CTL(f.pid, "invalidate", "ctl_square", "\"x\"");
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "string value cannot match key parameter 1 of ctl_square") != NULL,
	          "%s", r.err);
	run_free(&r);
	r = CTL(f.pid, "invalidate", "ctl_half", "1.5x");
	cr_expect_eq(r.status, 1, "a word is a string: not a float");
	run_free(&r);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, strings_and_any_select_keys)
{
	struct fx f;
	fx_start(&f, &on);
	fx_cmd(&f, "lookup bob 1");
	fx_cmd(&f, "lookup bob 2");
	fx_cmd(&f, "lookup ann 1");
	struct run r = CTL(f.pid, "invalidate", "ctl_lookup", "\"bob\"", "*");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "2 entries dropped\n");
	run_free(&r);
	cr_expect_eq(field(fx_cmd(&f, "lookup ann 1"), "runs"), 3, "ann stays cached");
	cr_expect_eq(field(fx_cmd(&f, "lookup bob 2"), "runs"), 4, "bob was dropped");
	/* A bare word is a string too. */
	r = CTL(f.pid, "invalidate", "ctl_lookup", "bob", "2");
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "1 entry dropped\n");
	run_free(&r);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, integer_and_float_literals_name_a_float_key)
{
	struct fx f;
	fx_start(&f, &on);
	fx_cmd(&f, "half 3");
	fx_cmd(&f, "half 2.5");
	struct run r = CTL(f.pid, "invalidate", "ctl_half", "3");
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "1 entry dropped\n");
	run_free(&r);
	r = CTL(f.pid, "invalidate", "ctl_half", "2.5");
	cr_expect_str_eq(r.out, "1 entry dropped\n");
	run_free(&r);
	cr_expect_eq(field(fx_cmd(&f, "half 2.5"), "runs"), 3);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, whole_method_and_everything)
{
	struct fx f;
	fx_start(&f, &on);
	fx_cmd(&f, "square 1");
	fx_cmd(&f, "square 2");
	fx_cmd(&f, "lookup a 1");
	struct run r = CTL(f.pid, "invalidate", "ctl_square");
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "2 entries dropped\n");
	run_free(&r);
	fx_cmd(&f, "square 1");
	r = CTL(f.pid, "invalidate", "--all");
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "2 entries dropped\n");
	run_free(&r);
	cr_expect_eq(field(fx_cmd(&f, "lookup a 1"), "runs"), 2);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, unknown_method_is_an_error)
{
	struct fx f;
	fx_start(&f, &on);
	struct run r = CTL(f.pid, "invalidate", "no_such_method");
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "no method 'no_such_method'") != NULL, "%s", r.err);
	run_free(&r);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, dead_process_is_unreachable)
{
	const char *argv[] = {"/bin/true", NULL};
	pid_t pid;
	cr_assert_eq(posix_spawn(&pid, argv[0], NULL, NULL, (char **)argv, NULL), 0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	struct run r = CTL(pid, "stats");
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "no process") != NULL, "%s", r.err);
	run_free(&r);
}

Test(ctl, control_off_is_unreachable)
{
	struct fx f;
	const struct fx_opts off = {0};
	fx_start(&f, &off);
	struct run r = CTL(f.pid, "stats");
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "no control socket") != NULL, "%s", r.err);
	run_free(&r);
	cr_expect(access(f.sock, F_OK) != 0);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, socket_is_private_and_removed_at_exit)
{
	struct fx f;
	fx_start(&f, &on);
	struct stat st;
	cr_assert_eq(stat(f.sock, &st), 0, "%s", f.sock);
	cr_expect(S_ISSOCK(st.st_mode));
	char dir[128];
	snprintf(dir, sizeof dir, "%s/ldmemo", f.dir);
	cr_assert_eq(stat(dir, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0700);
	cr_expect_eq(fx_quit(&f), 0);
	cr_expect(access(f.sock, F_OK) != 0, "%s is left behind", f.sock);
	fx_cleanup(&f);
}

Test(ctl, without_xdg_runtime_dir_the_socket_is_under_tmp)
{
	struct fx f;
	const struct fx_opts o = {.control = true, .no_xdg = true};
	fx_start(&f, &o);
	cr_expect_eq(access(f.sock, F_OK), 0, "%s", f.sock);
	struct run r = CTL(f.pid, "stats", "-f", "json");
	cr_expect_eq(r.status, 0, "%s", r.err);
	run_free(&r);
	cr_expect_eq(fx_quit(&f), 0);
	cr_expect(access(f.sock, F_OK) != 0);
	fx_cleanup(&f);
}

Test(ctl, a_directory_open_to_others_is_refused)
{
	struct fx f;
	const struct fx_opts o = {.control = true, .dir_mode = 0755};
	fx_start(&f, &o);
	cr_expect(access(f.sock, F_OK) != 0);
	struct run r = CTL(f.pid, "stats");
	cr_expect_eq(r.status, 2);
	run_free(&r);
	char *err = fx_err(&f);
	cr_expect(strstr(err, "is not private") != NULL, "%s", err);
	free(err);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, a_silent_client_stalls_neither_calls_nor_other_clients)
{
	struct fx f;
	fx_start(&f, &on);
	fx_cmd(&f, "square 5");
	int silent = fx_connect(f.sock);
	cr_expect_eq(field(fx_cmd(&f, "square 5"), "runs"), 1, "a hit while a client hangs");
	cr_expect_eq(field(fx_cmd(&f, "square 6"), "runs"), 2, "a miss while a client hangs");
	struct run r = CTL(f.pid, "invalidate", "ctl_square", "5");
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, "1 entry dropped\n");
	run_free(&r);
	close(silent);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, an_oversized_request_is_refused)
{
	struct fx f;
	fx_start(&f, &on);
	int fd = fx_connect(f.sock);
	static char big[5000];
	memset(big, 'a', sizeof big);
	cr_assert_eq(send(fd, big, sizeof big, MSG_NOSIGNAL), (ssize_t)sizeof big);
	char buf[128] = "";
	ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_WAITALL);
	cr_assert_gt(n, 0);
	buf[n] = '\0';
	cr_expect_str_eq(buf, "error request too long\n");
	close(fd);
	cr_expect_eq(field(fx_cmd(&f, "square 5"), "runs"), 1);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, a_forked_child_answers_on_its_own_socket)
{
#ifdef __SANITIZE_ADDRESS__
	/* A child forked from the threaded fixture starts its own control
	 * thread; under ASan that child once never answered (CI, 1 run of 2;
	 * 4 runs of 4 passed alone), as ASan's allocator is not fork-safe
	 * (tests/store/test_coalesce.c). The plain build runs it. */
	cr_skip_test("a forked child of a threaded process under ASan");
#endif
	struct fx f;
	fx_start(&f, &on);
	fx_cmd(&f, "square 9");
	long child = field(fx_cmd(&f, "fork"), "child");
	cr_assert_gt(child, 0);
	char csock[160];
	snprintf(csock, sizeof csock, "%s/ldmemo/%ld.sock", f.dir, child);
	cr_assert(wait_path(csock, true), "no socket %s", csock);

	struct run r = CTL((pid_t)child, "stats", "-f", "json");
	cr_assert_eq(r.status, 0, "%s", r.err);
	char pid[32];
	snprintf(pid, sizeof pid, "\"pid\":%ld,", child);
	cr_expect(strstr(r.out, pid) != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "\"entries\":1,") != NULL, "the child has the parent's cache: %s",
	          r.out);
	run_free(&r);
	r = CTL((pid_t)child, "invalidate", "ctl_square", "9");
	cr_expect_str_eq(r.out, "1 entry dropped\n", "%s", r.err);
	run_free(&r);

	cr_assert_eq(kill((pid_t)child, SIGTERM), 0);
	cr_expect(wait_path(csock, false), "the child's socket is left behind");
	cr_expect_eq(access(f.sock, F_OK), 0, "the child removed its parent's socket");
	cr_expect_eq(field(fx_cmd(&f, "square 9"), "runs"), 1, "the parent keeps its entry");
	r = CTL(f.pid, "invalidate", "ctl_square", "9");
	cr_expect_str_eq(r.out, "1 entry dropped\n", "%s", r.err);
	run_free(&r);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

Test(ctl, usage_errors_exit_2)
{
	struct run r = CTL(1, "frobnicate");
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "sage: ldmemo ctl") != NULL, "%s", r.err);
	run_free(&r);
	r = CTL(1, "stats", "-f", "xml");
	cr_expect_eq(r.status, 2);
	run_free(&r);
}
