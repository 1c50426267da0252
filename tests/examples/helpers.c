#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char *ex_mkdir(void)
{
	char *dir = strdup("/tmp/ldmemo-ex-XXXXXX");
	cr_assert(dir && mkdtemp(dir), "mkdtemp");
	return dir;
}

void ex_rmdir(char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0, "%s", cmd);
	free(dir);
}

const char *ex_path(const char *dir, const char *name)
{
	static __thread char buf[8][512];
	static __thread int next;
	char *b = buf[next++ % 8];
	snprintf(b, 512, "%s/%s", dir, name);
	return b;
}

void ex_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");
	cr_assert(f != NULL, "open %s", path);
	fputs(text, f);
	cr_assert_eq(fclose(f), 0, "write %s", path);
}

char *ex_slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	cr_assert(f != NULL, "open %s", path);
	size_t cap = 1 << 16, n = 0, k;
	char *s = malloc(cap);
	cr_assert(s != NULL);
	while ((k = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (cap - n < 4096) {
			char *grown = realloc(s, cap *= 2);
			cr_assert(grown != NULL);
			s = grown;
		}
	}
	s[n] = '\0';
	fclose(f);
	return s;
}

void ex_copy(const char *from, const char *to)
{
	FILE *in = fopen(from, "re"), *out = fopen(to, "we");
	cr_assert(in && out, "copy %s to %s", from, to);
	char buf[65536];
	size_t k;
	while ((k = fread(buf, 1, sizeof buf, in)) > 0)
		cr_assert_eq(fwrite(buf, 1, k, out), k, "write %s", to);
	fclose(in);
	cr_assert_eq(fclose(out), 0, "write %s", to);
}

int ex_run(const char *out, const char *err, const char *const *argv, const char *const *env)
{
	const char *envp[256];
	int n = 0;
	for (char **e = environ; *e && n < 200; e++)
		if (strncmp(*e, "LDMEMO_", 7) != 0 && strncmp(*e, "LD_PRELOAD=", 11) != 0)
			envp[n++] = *e;
	for (int i = 0; env && env[i] && n < 255; i++)
		envp[n++] = env[i];
	envp[n] = NULL;

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, (char **)envp);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "spawn %s: %s", argv[0], strerror(rc));

	int st = 0;
	for (int i = 0; waitpid(pid, &st, WNOHANG) != pid; i++) {
		if (i == 6000) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		usleep(10000);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

long ex_stat(const char *json, const char *name, const char *field)
{
	char pat[160];
	snprintf(pat, sizeof pat, "\"name\":\"%s\"", name);
	const char *obj = strstr(json, pat);
	if (!obj)
		return -1;
	const char *end = strchr(obj, '}');
	snprintf(pat, sizeof pat, "\"%s\":", field);
	const char *p = strstr(obj, pat);
	if (!p || (end && p > end))
		return -1;
	return strtol(p + strlen(pat), NULL, 10);
}
