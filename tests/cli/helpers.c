/* Running build/ldmemo for the command's own tests. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

extern char **environ;

/* The tests run from the root of the tree, whose build/ may be another
 * build (the sanitizer runs link build to build/asan). */
const char *cli_root(void)
{
	static char dir[PATH_MAX];
	if (!dir[0])
		cr_assert_not_null(getcwd(dir, sizeof dir));
	return dir;
}

const char *cli_ldmemo(void)
{
	static char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/build/ldmemo", cli_root());
	return path;
}

static char *slurp(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;
	cr_assert_not_null(buf);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (cap - len < 2) {
			buf = realloc(buf, cap *= 2);
			cr_assert_not_null(buf);
		}
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

static int temp_fd(void)
{
	char path[] = "/tmp/lm_cli_XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	unlink(path);
	return fd;
}

struct cli_run cli_run(const char *cwd, const char *const *env, const char *const *argv)
{
	const char *args[32] = {cli_ldmemo()};
	size_t n = 1;
	for (; argv[n - 1] && n < 31; n++)
		args[n] = argv[n - 1];
	args[n] = NULL;
	int out = temp_fd(), err = temp_fd(), st;
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		for (char **e = environ; *e;) {
			if (strncmp(*e, "LDMEMO_", 7) == 0 || strncmp(*e, "LD_PRELOAD=", 11) == 0) {
				char name[256];
				snprintf(name, sizeof(name), "%.*s", (int)(strchr(*e, '=') - *e),
				         *e);
				unsetenv(name);
			} else {
				e++;
			}
		}
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		if (cwd && chdir(cwd) != 0)
			_exit(99);
		execv(args[0], (char *const *)args);
		_exit(98);
	}
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	struct cli_run r = {.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)};
	r.out = slurp(out);
	r.err = slurp(err);
	return r;
}

void cli_free(struct cli_run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

char *cli_tempdir(void)
{
	char *dir = strdup("/tmp/lm_cli_dirXXXXXX");
	cr_assert_not_null(dir);
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

void cli_write(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}
