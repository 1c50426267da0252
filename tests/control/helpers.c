#include "helpers.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char conf[] = "[cache ctl_square]\nsignature = long ctl_square(long x)\n"
                           "[cache ctl_lookup]\nsignature = int ctl_lookup(str name, i32 n)\n"
                           "[cache ctl_half]\nsignature = f64 ctl_half(f64 x)\n";

const char *bpath(const char *rel)
{
	static __thread char buf[4][512];
	static __thread int next;
	char *b = buf[next++ % 4];
	snprintf(b, 512, "%s/build/%s", getenv("PWD") ? getenv("PWD") : ".", rel);
	return b;
}

/* ENVIRON without what the tests set themselves, then ADD. */
static void make_env(char **envp, int cap, const char *const *add)
{
	int n = 0;
	for (char **e = environ; *e && n < cap - 40; e++)
		if (strncmp(*e, "LDMEMO_", 7) != 0 && strncmp(*e, "LD_PRELOAD=", 11) != 0 &&
		    strncmp(*e, "XDG_RUNTIME_DIR=", 16) != 0)
			envp[n++] = *e;
	for (int i = 0; add && add[i] && n < cap - 1; i++)
		envp[n++] = (char *)add[i];
	envp[n] = NULL;
}

void fx_start(struct fx *f, const struct fx_opts *o)
{
	memset(f, 0, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/ldmemo-ctltest-XXXXXX");
	cr_assert(mkdtemp(f->dir) != NULL);
	char path[256];
	snprintf(path, sizeof path, "%s/app.conf", f->dir);
	FILE *c = fopen(path, "we");
	cr_assert(c != NULL);
	fputs(conf, c);
	fclose(c);
	if (o->dir_mode) {
		snprintf(path, sizeof path, "%s/ldmemo", f->dir);
		cr_assert_eq(mkdir(path, 0700), 0);
		cr_assert_eq(chmod(path, (mode_t)o->dir_mode), 0);
	}

	static char shim[600], cfg[300], xdg[300];
	const char *override = getenv("CTL_SHIM");
	snprintf(shim, sizeof shim, "LD_PRELOAD=%s", override ? override : bpath("libldmemo.so"));
	snprintf(cfg, sizeof cfg, "LDMEMO_CONFIG=%s/app.conf", f->dir);
	snprintf(xdg, sizeof xdg, "XDG_RUNTIME_DIR=%s", f->dir);
	const char *add[] = {shim, cfg, o->control ? "LDMEMO_CONTROL=1" : "LDMEMO_LOG=warn",
	                     o->no_xdg ? NULL : xdg, NULL};
	char *envp[300];
	make_env(envp, 300, add);

	int in[2], out[2];
	cr_assert_eq(pipe2(in, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(out, O_CLOEXEC), 0);
	snprintf(path, sizeof path, "%s/err", f->dir);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char *argv[] = {(char *)bpath("tests/control/ctlfix"), NULL};
	int rc = posix_spawn(&f->pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "spawn %s", argv[0]);
	close(in[0]);
	close(out[1]);
	f->in = in[1];
	f->out = out[0];
	const char *l = fx_line(f);
	cr_assert_eq(field(l, "ready pid"), f->pid, "fixture said: %s", l);
	if (o->no_xdg)
		snprintf(f->sock, sizeof f->sock, "/tmp/ldmemo-%u/%d.sock", (unsigned)geteuid(),
		         (int)f->pid);
	else
		snprintf(f->sock, sizeof f->sock, "%s/ldmemo/%d.sock", f->dir, (int)f->pid);
}

const char *fx_line(struct fx *f)
{
	static char line[512];
	size_t n = 0;
	while (n + 1 < sizeof line) {
		struct pollfd p = {.fd = f->out, .events = POLLIN};
		cr_assert_gt(poll(&p, 1, 20000), 0, "the fixture did not answer");
		char c;
		ssize_t k = read(f->out, &c, 1);
		cr_assert_eq(k, 1, "the fixture closed its output");
		if (c == '\n')
			break;
		line[n++] = c;
	}
	line[n] = '\0';
	return line;
}

const char *fx_cmd(struct fx *f, const char *cmd)
{
	char buf[300];
	int n = snprintf(buf, sizeof buf, "%s\n", cmd);
	cr_assert_eq(write(f->in, buf, (size_t)n), n);
	return fx_line(f);
}

int fx_quit(struct fx *f)
{
	cr_assert_eq(write(f->in, "quit\n", 5), 5);
	close(f->in);
	int st = 0;
	cr_assert_eq(waitpid(f->pid, &st, 0), f->pid);
	close(f->out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "re");
	cr_assert(fp != NULL, "open %s", path);
	size_t cap = 4096, n = 0, k;
	char *s = malloc(cap);
	while ((k = fread(s + n, 1, cap - n - 1, fp)) > 0) {
		n += k;
		if (cap - n < 1024)
			s = realloc(s, cap *= 2);
	}
	s[n] = '\0';
	fclose(fp);
	return s;
}

char *fx_err(const struct fx *f)
{
	char path[128];
	snprintf(path, sizeof path, "%s/err", f->dir);
	return slurp(path);
}

void fx_cleanup(struct fx *f)
{
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	cr_expect_eq(system(cmd), 0);
}

struct run run_prog(const char *const *argv, const char *const *env)
{
	char dir[] = "/tmp/ldmemo-ctlrun-XXXXXX";
	cr_assert(mkdtemp(dir) != NULL);
	char out[128], err[128];
	snprintf(out, sizeof out, "%s/out", dir);
	snprintf(err, sizeof err, "%s/err", dir);
	char *envp[300];
	make_env(envp, 300, env);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	cr_assert_eq(rc, 0, "spawn %s", argv[0]);
	int st = 0;
	for (int i = 0; waitpid(pid, &st, WNOHANG) != pid; i++) {
		if (i == 3000) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	struct run r = {
	    .status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
	    .out = slurp(out),
	    .err = slurp(err),
	};
	unlink(out);
	unlink(err);
	rmdir(dir);
	return r;
}

struct run run_ctl(pid_t pid, const char *const *args)
{
	const char *argv[32] = {bpath("ldmemo"), "ctl"};
	char p[32];
	snprintf(p, sizeof p, "%d", (int)pid);
	argv[2] = p;
	int n = 3;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return run_prog(argv, NULL);
}

void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

long field(const char *text, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, "%s=", key);
	const char *p = strstr(text, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

bool wait_path(const char *path, bool want)
{
	for (int i = 0; i < 1000; i++) {
		if ((access(path, F_OK) == 0) == want)
			return true;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return false;
}

int fx_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert(fd >= 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0, "%s", path);
	return fd;
}
