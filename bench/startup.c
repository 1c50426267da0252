/* Start-up timer: runs a program RUNS times without and RUNS times with
 * the shim, alternating (plain, shim, plain, shim, ...) so that a noisy
 * machine slows both alike, and prints the median, minimum and maximum
 * wall time of each, from posix_spawn to waitpid, in microseconds, and
 * the median CPU time (user + system, from wait4): on a loaded machine the
 * wall time waits for the other processes, the CPU time much less.
 *
 *   startup RUNS SHIM CONFIG PROGRAM [ARG...]
 *
 * The shim run adds LD_PRELOAD=SHIM and LDMEMO_CONFIG=CONFIG to the
 * environment (and LDMEMO_LOG=error); the child's output goes to /dev/null. Output:
 * `plain_us=MED,MIN,MAX shim_us=MED,MIN,MAX added_us=D plain_cpu_us=MED
 * shim_cpu_us=MED added_cpu_us=D` (D: difference of the medians). */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Wall time in microseconds; *CPU: the child's user + system time. */
static double run_once(char **argv, char **envp, posix_spawn_file_actions_t *fa, double *cpu)
{
	pid_t pid;
	double t0 = now_us();
	if (posix_spawn(&pid, argv[0], fa, NULL, argv, envp) != 0) {
		perror("startup: posix_spawn");
		exit(1);
	}
	int st;
	struct rusage ru;
	wait4(pid, &st, 0, &ru);
	double t = now_us() - t0;
	*cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
	if (!WIFEXITED(st)) {
		fprintf(stderr, "startup: %s died\n", argv[0]);
		exit(1);
	}
	return t;
}

int main(int argc, char **argv)
{
	if (argc < 5 || atoi(argv[1]) < 1) {
		fprintf(stderr, "usage: startup RUNS SHIM CONFIG PROGRAM [ARG...]\n");
		return 2;
	}
	int runs = atoi(argv[1]);
	size_t n = 0;
	while (environ[n])
		n++;
	char **plain = calloc(n + 1, sizeof(char *));
	char **shim = calloc(n + 4, sizeof(char *));
	double *tp = calloc((size_t)runs, sizeof(double));
	double *ts = calloc((size_t)runs, sizeof(double));
	double *cp = calloc((size_t)runs, sizeof(double));
	double *cs = calloc((size_t)runs, sizeof(double));
	char *pre = malloc(strlen(argv[2]) + 16);
	char *conf = malloc(strlen(argv[3]) + 16);
	if (!plain || !shim || !tp || !ts || !cp || !cs || !pre || !conf) {
		perror("startup");
		return 1;
	}
	sprintf(pre, "LD_PRELOAD=%s", argv[2]);
	sprintf(conf, "LDMEMO_CONFIG=%s", argv[3]);
	size_t np = 0, ns = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(environ[i], "LD_PRELOAD=", 11) || !strncmp(environ[i], "LDMEMO_", 7))
			continue;
		plain[np++] = environ[i];
		shim[ns++] = environ[i];
	}
	shim[ns++] = pre;
	shim[ns++] = conf;
	shim[ns++] = "LDMEMO_LOG=error"; /* methods absent from a program are warned about */
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	char **prog = argv + 4;
	/* One untimed run of each warms the page cache. */
	run_once(prog, plain, &fa, &cp[0]);
	run_once(prog, shim, &fa, &cs[0]);
	for (int r = 0; r < runs; r++) {
		tp[r] = run_once(prog, plain, &fa, &cp[r]);
		ts[r] = run_once(prog, shim, &fa, &cs[r]);
	}
	qsort(tp, (size_t)runs, sizeof(double), cmp_double);
	qsort(ts, (size_t)runs, sizeof(double), cmp_double);
	qsort(cp, (size_t)runs, sizeof(double), cmp_double);
	qsort(cs, (size_t)runs, sizeof(double), cmp_double);
	double mp = tp[runs / 2], ms = ts[runs / 2];
	double cpm = cp[runs / 2], csm = cs[runs / 2];
	printf("plain_us=%.0f,%.0f,%.0f shim_us=%.0f,%.0f,%.0f added_us=%.0f plain_cpu_us=%.0f "
	       "shim_cpu_us=%.0f added_cpu_us=%.0f\n",
	       mp, tp[0], tp[runs - 1], ms, ts[0], ts[runs - 1], ms - mp, cpm, csm, csm - cpm);
	return 0;
}
