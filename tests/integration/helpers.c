#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *it_path(const char *name)
{
	static __thread char buf[8][512];
	static __thread int next;
	char *b = buf[next++ % 8];
	snprintf(b, 512, "%s/build/tests/integration/%s", getenv("PWD") ? getenv("PWD") : ".",
	         name);
	return b;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	cr_assert(f != NULL, "open %s", path);
	size_t cap = 4096, n = 0;
	char *s = malloc(cap);
	size_t k;
	while ((k = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (cap - n < 2048)
			s = realloc(s, cap *= 2);
	}
	s[n] = '\0';
	fclose(f);
	return s;
}

struct it_run it_run(const char *conf, const char *const *argv, const char *const *env)
{
	char dir[] = "/tmp/ldmemo-it-XXXXXX";
	cr_assert(mkdtemp(dir) != NULL);
	char conf_path[600], out_path[600], err_path[600], shim[600];
	snprintf(conf_path, sizeof conf_path, "%s/app.conf", dir);
	snprintf(out_path, sizeof out_path, "%s/out", dir);
	snprintf(err_path, sizeof err_path, "%s/err", dir);
	snprintf(shim, sizeof shim, "LD_PRELOAD=%s/build/libldmemo.so", getenv("PWD"));

	char *envp[256];
	int n = 0;
	for (char **e = environ; *e && n < 200; e++)
		if (strncmp(*e, "LDMEMO_", 7) != 0 && strncmp(*e, "LD_PRELOAD=", 11) != 0)
			envp[n++] = *e;
	char conf_env[700];
	if (conf) {
		FILE *f = fopen(conf_path, "we");
		cr_assert(f != NULL);
		fputs(conf, f);
		fclose(f);
		snprintf(conf_env, sizeof conf_env, "LDMEMO_CONFIG=%s", conf_path);
		envp[n++] = shim;
		envp[n++] = conf_env;
	}
	for (int i = 0; env && env[i] && n < 250; i++)
		envp[n++] = (char *)env[i];
	envp[n] = NULL;

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "spawn %s", argv[0]);

	int st = 0;
	for (int i = 0; i < 6000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		if (i == 5999) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
		}
		usleep(10000);
	}
	struct it_run r = {
	    .status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
	    .out = slurp(out_path),
	    .err = slurp(err_path),
	};
	unlink(conf_path);
	unlink(out_path);
	unlink(err_path);
	rmdir(dir);
	return r;
}

void it_free(struct it_run *r)
{
	free(r->out);
	free(r->err);
}

long it_field(const char *text, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "%s=", key);
	const char *p = strstr(text, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

char *it_strip_counts(const char *text)
{
	char *s = strdup(text), *w = s;
	for (const char *p = text; *p;) {
		if (strncmp(p, "runs=", 5) == 0 || strncmp(p, "calls=", 6) == 0) {
			p = strchr(p, '=') + 1;
			while (*p >= '0' && *p <= '9')
				p++;
			continue;
		}
		*w++ = *p++;
	}
	*w = '\0';
	return s;
}
