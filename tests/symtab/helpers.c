/* Test helpers: fixture paths, a temporary directory, running a command. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static char tmpdir[64];

static const char *under_build(const char *rel, const char *name)
{
	static char bufs[8][PATH_MAX * 2];
	static int next;
	char self[PATH_MAX];
	char *out = bufs[next++ % 8];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return name;
	self[n] = '\0';
	/* The binary is build/tests/test_symtab. */
	*strrchr(self, '/') = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(out, sizeof(bufs[0]), "%s/%s%s", self, rel, name);
	return out;
}

const char *lm_fixture(const char *name)
{
	return under_build("tests/symtab/", name);
}

const char *lm_built(const char *name)
{
	return under_build("", name);
}

int lm_run(char *const argv[], const char *const env[], char **out)
{
	int pipefd[2], status;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	pid_t pid;
	ssize_t r;

	*out = buf;
	if (!buf || pipe(pipefd) != 0)
		return -1;
	buf[0] = '\0';
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		close(pipefd[1]);
		for (size_t i = 0; env && env[i]; i++) {
			char *eq = strchr(env[i], '=');

			if (eq) {
				char *name = strndup(env[i], (size_t)(eq - env[i]));

				setenv(name, eq + 1, 1);
			} else {
				unsetenv(env[i]);
			}
		}
		execv(argv[0], argv);
		_exit(99);
	}
	close(pipefd[1]);
	for (;;) {
		if (len + 1 >= cap) {
			char *p = realloc(buf, cap * 2);

			if (!p)
				break;
			buf = p;
			cap *= 2;
		}
		r = read(pipefd[0], buf + len, cap - len - 1);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

const char *lm_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/lm-symtab-XXXXXX");
	if (!mkdtemp(tmpdir))
		return NULL;
	return tmpdir;
}

void lm_tmpdir_remove(void)
{
	char cmd[sizeof(tmpdir) + 16];

	if (!tmpdir[0])
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	tmpdir[0] = '\0';
}

const char *lm_write_file(const char *name, const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}
