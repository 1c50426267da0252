/* The loop of short processes (issue 22), timed by a C driver: a shell
 * loop's own fork, exec and quoting cost as much as what it measures.
 * N rounds; in each, one process per mode, the modes alternating, so that
 * a change in the machine's load falls on all of them alike. A process is
 * timed from its spawn to its reaped exit, its output sent to /dev/null.
 *
 *   oneshot_loop N SO PROG MODE...
 *     MODE = LABEL:CONF:ARG   CONF "-": no shim; else LD_PRELOAD=SO and
 *                             LDMEMO_CONFIG=CONF; PROG is run with ARG
 *   ->  one line per mode: LABEL total_ms=... median_us=... min_us=... */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct mode {
	char *label, *conf, *arg;
	char *env[64];
	double *us;
};

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The driver's environment without LD_PRELOAD and LDMEMO_*, then the
 * mode's own. */
static void make_env(struct mode *m, const char *so)
{
	static char pre[1024], conf[1024];
	size_t n = 0;
	for (char **e = environ; *e && n < 56; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) != 0 && strncmp(*e, "LDMEMO_", 7) != 0)
			m->env[n++] = *e;
	if (strcmp(m->conf, "-") != 0) {
		snprintf(pre, sizeof pre, "LD_PRELOAD=%s", so);
		m->env[n++] = strdup(pre);
		snprintf(conf, sizeof conf, "LDMEMO_CONFIG=%s", m->conf);
		m->env[n++] = strdup(conf);
		m->env[n++] = "LDMEMO_LOG=error";
	}
	m->env[n] = NULL;
}

static double run_one(const char *prog, struct mode *m, posix_spawn_file_actions_t *fa)
{
	char *argv[] = {(char *)prog, m->arg, NULL};
	double t0 = now_us();
	pid_t pid;
	if (posix_spawn(&pid, prog, fa, NULL, argv, m->env) != 0)
		return -1;
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return now_us() - t0;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: oneshot_loop N SO PROG LABEL:CONF:ARG...\n");
		return 2;
	}
	long n = atol(argv[1]);
	const char *so = argv[2], *prog = argv[3];
	int nm = argc - 4;
	struct mode *m = calloc((size_t)nm, sizeof *m);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	for (int i = 0; i < nm; i++) {
		m[i].label = strtok(argv[4 + i], ":");
		m[i].conf = strtok(NULL, ":");
		m[i].arg = strtok(NULL, ":");
		m[i].us = calloc((size_t)n, sizeof(double));
		if (!m[i].arg || !m[i].us || n < 1) {
			fprintf(stderr, "oneshot_loop: bad mode %s\n", argv[4 + i]);
			return 2;
		}
		make_env(&m[i], so);
	}
	for (long r = 0; r < n; r++)
		for (int i = 0; i < nm; i++)
			if ((m[i].us[r] = run_one(prog, &m[i], &fa)) < 0) {
				fprintf(stderr, "oneshot_loop: %s failed\n", m[i].label);
				return 1;
			}
	for (int i = 0; i < nm; i++) {
		double sum = 0;
		for (long r = 0; r < n; r++)
			sum += m[i].us[r];
		qsort(m[i].us, (size_t)n, sizeof(double), cmp);
		printf("%s total_ms=%.1f median_us=%.0f min_us=%.0f\n", m[i].label, sum / 1e3,
		       m[i].us[n / 2], m[i].us[0]);
	}
	return 0;
}
