/* `ldmemo stats`: re-rendering dumps from a file or stdin, exit statuses,
 * and error messages that name the byte offset. Runs build/ldmemo. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

extern char **environ;

struct result {
	int status;
	char *out, *err;
};

static char *slurp_fd(int fd)
{
	long len = lseek(fd, 0, SEEK_END);
	cr_assert(len >= 0);
	char *s = calloc(1, (size_t)len + 1);
	cr_assert_eq(pread(fd, s, (size_t)len, 0), len);
	close(fd);
	return s;
}

static int tmp_fd(void)
{
	char path[] = "/tmp/ldmemo-cmd-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	unlink(path);
	return fd;
}

/* Run build/ldmemo stats ARGS... with INPUT (may be NULL) on stdin. */
static struct result cmd(const char *input, const char *const *args)
{
	const char *argv[16] = {"build/ldmemo", "stats"};
	int n = 2;
	for (; args[n - 2]; n++)
		argv[n] = args[n - 2];
	argv[n] = NULL;
	int in = tmp_fd(), out = tmp_fd(), err = tmp_fd();
	if (input)
		cr_assert_eq(write(in, input, strlen(input)), (ssize_t)strlen(input));
	lseek(in, 0, SEEK_SET);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, err, 2);
	pid_t pid;
	cr_assert_eq(posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	close(in);
	return (struct result){WIFEXITED(st) ? WEXITSTATUS(st) : 128, slurp_fd(out), slurp_fd(err)};
}

static void result_free(struct result *r)
{
	free(r->out);
	free(r->err);
}

static char *write_file(const char *text)
{
	char *path = strdup("/tmp/ldmemo-dump-XXXXXX");
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

TestSuite(command, .init = sample_setup);

Test(command, renders_a_file_in_each_format)
{
	char *json = render(&sample.s, LM_FMT_JSON, false);
	char *path = write_file(json);
	for (int fmt = LM_FMT_TEXT; fmt <= LM_FMT_PROM; fmt++) {
		static const char *const names[] = {"text", "json", "prom"};
		const char *args[] = {"-f", names[fmt], path, NULL};
		struct result r = cmd(NULL, args);
		cr_expect_eq(r.status, 0, "%s", r.err);
		char *want = render(&sample.s, (enum lm_stats_format)fmt, false);
		cr_expect_str_eq(r.out, want);
		free(want);
		result_free(&r);
	}
	unlink(path);
	free(path);
	free(json);
}

Test(command, stdin_last_dump_or_all)
{
	char *both = two_dumps(&sample, 77);
	char *b = render(&sample.s, LM_FMT_JSON, false); /* the last of them */

	const char *last[] = {"--format=json", "-", NULL};
	struct result r = cmd(both, last);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, b);
	result_free(&r);

	const char *all[] = {"-a", "-f", "json", "-", NULL};
	r = cmd(both, all);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_str_eq(r.out, both);
	result_free(&r);
	free(b);
	free(both);
}

Test(command, invalid_input_names_the_byte_offset)
{
	const char *args[] = {"-", NULL};
	struct result r = cmd("{\"version\":\"0.1.0\",\"pid\":x}", args);
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "byte 25") != NULL, "%s", r.err);
	cr_expect_str_eq(r.out, "");
	result_free(&r);

	r = cmd("", args);
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "no statistics dump") != NULL, "%s", r.err);
	result_free(&r);
}

Test(command, unreadable_file_and_usage_errors)
{
	const char *missing[] = {"/nonexistent/dump.json", NULL};
	struct result r = cmd(NULL, missing);
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "/nonexistent/dump.json") != NULL, "%s", r.err);
	result_free(&r);

	const char *none[] = {NULL};
	r = cmd(NULL, none);
	cr_expect_eq(r.status, 2);
	result_free(&r);

	const char *badfmt[] = {"-f", "xml", "-", NULL};
	r = cmd(NULL, badfmt);
	cr_expect_eq(r.status, 2);
	cr_expect(strstr(r.err, "xml") != NULL, "%s", r.err);
	result_free(&r);

	const char *help[] = {"--help", NULL};
	r = cmd(NULL, help);
	cr_expect_eq(r.status, 0);
	cr_expect(strstr(r.out, "Usage: ldmemo stats") != NULL, "%s", r.out);
	result_free(&r);
}
