/* Fixture paths and running the command, for the dwarf tests. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

/* build/tests, from the test binary's own path. */
static const char *tests_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	cr_assert_gt(n, 0);
	dir[n] = '\0';
	*strrchr(dir, '/') = '\0';
	return dir;
}

const char *lm_dw_fixture(const char *name)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/dwarf/%s", tests_dir(), name);
	return path;
}

const char *lm_dw_ldmemo(void)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/../ldmemo", tests_dir());
	return path;
}

static char *slurp(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	cr_assert_not_null(buf);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

void lm_dw_run(const char *const argv[], struct lm_dw_run *r)
{
	char out_path[] = "/tmp/lm_dw_outXXXXXX", err_path[] = "/tmp/lm_dw_errXXXXXX";
	int out = mkstemp(out_path), err = mkstemp(err_path), st;
	const char *args[16] = {lm_dw_ldmemo()};
	size_t n = 1;
	pid_t pid;

	cr_assert(out >= 0 && err >= 0);
	unlink(out_path);
	unlink(err_path);
	for (; argv[n - 1] && n < 15; n++)
		args[n] = argv[n - 1];
	args[n] = NULL;
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		unsetenv("LDMEMO_CONFIG");
		unsetenv("DEBUGINFOD_URLS");
		execv(args[0], (char *const *)args);
		_exit(127);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	lseek(out, 0, SEEK_SET);
	lseek(err, 0, SEEK_SET);
	r->out = slurp(out);
	r->err = slurp(err);
}

void lm_dw_run_free(struct lm_dw_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL; /* a suite teardown may free it again */
}

char *lm_dw_write_temp(const char *text)
{
	char *path = strdup("/tmp/lm_dw_confXXXXXX");
	int fd;

	cr_assert_not_null(path);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}
