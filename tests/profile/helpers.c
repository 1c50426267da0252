#include "helpers.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char *pf_slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap + 65536);
			if (!nb)
				break;
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

const char *pf_tmpdir(void)
{
	static char dir[64];
	snprintf(dir, sizeof dir, "/tmp/ldmemo-pf-XXXXXX");
	return mkdtemp(dir);
}

const char *pf_build(const char *name)
{
	static char path[4][1024];
	static int k;
	k = (k + 1) % 4;
	snprintf(path[k], sizeof path[k], "%s/build/%s", getenv("PWD"), name);
	return path[k];
}

const char *pf_fixture(const char *name)
{
	static char path[4][1024];
	static int k;
	k = (k + 1) % 4;
	snprintf(path[k], sizeof path[k], "%s/build/tests/profile/%s", getenv("PWD"), name);
	return path[k];
}

int pf_run(const char *const *argv, const char *const *env, char **out, char **err)
{
	char dir[] = "/tmp/ldmemo-pfrun-XXXXXX", op[64], ep[64];
	if (!mkdtemp(dir))
		return -1;
	snprintf(op, sizeof op, "%s/out", dir);
	snprintf(ep, sizeof ep, "%s/err", dir);
	pid_t pid = fork();
	if (pid == 0) {
		char **e = environ;
		size_t n = 0;
		while (e[n])
			n++;
		char **ne = calloc(n + 32, sizeof *ne);
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (strncmp(e[i], "LDMEMO_", 7) != 0 &&
			    strncmp(e[i], "LD_PRELOAD=", 11) != 0)
				ne[k++] = e[i];
		for (size_t i = 0; env && env[i] && i < 30; i++)
			ne[k++] = (char *)env[i];
		int fo = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fo, 1);
		dup2(fe, 2);
		execve(argv[0], (char *const *)argv, ne);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	if (out)
		*out = pf_slurp(op);
	if (err)
		*err = pf_slurp(ep);
	unlink(op);
	unlink(ep);
	rmdir(dir);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
