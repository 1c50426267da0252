#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

extern char **environ;

static char dir[64];

const char *ht_dir_new(void)
{
	/* where the shim keeps mappings: tmpfs, with no readahead of its own */
	struct stat st;
	bool shm = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode);
	snprintf(dir, sizeof dir, "%s/ldmemo-host-XXXXXX", shm ? "/dev/shm" : "/tmp");
	cr_assert(mkdtemp(dir) != NULL);
	return dir;
}

void ht_dir_free(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

const char *ht_map_path(const char *ns)
{
	static char p[512];
	cr_assert_eq(lm_host_path(dir, (unsigned)geteuid(), ns, p, sizeof p), 0);
	return p;
}

struct lm_host *ht_open(const char *ns, uint64_t size)
{
	char why[512], note[512];
	struct lm_host *h = lm_host_open(dir, ns, size, why, sizeof why, note, sizeof note);
	cr_assert(h != NULL, "%s", why);
	return h;
}

uint64_t ht_hash(const char *key)
{
	return XXH3_64bits(key, strlen(key));
}

int ht_get(struct lm_host *h, const struct lm_host_method *m, const char *key, char *buf,
           size_t len)
{
	struct lm_buf out = {0};
	int64_t exp;
	struct lm_host_ticket t;
	int r = lm_host_get(h, m, ht_hash(key), key, (uint32_t)strlen(key), &out, &exp, &t);
	if (r == 1) {
		cr_assert_lt(out.len, len);
		memcpy(buf, out.p, out.len);
		buf[out.len] = 0;
	}
	lm_buf_free(&out);
	return r;
}

int ht_set(struct lm_host *h, const struct lm_host_method *m, const char *key, const char *val,
           int64_t ttl_ms)
{
	struct lm_buf out = {0};
	int64_t exp;
	struct lm_host_ticket t;
	lm_host_get(h, m, ht_hash(key), key, (uint32_t)strlen(key), &out, &exp, &t);
	lm_buf_free(&out);
	return lm_host_set(h, m, ht_hash(key), key, (uint32_t)strlen(key), val, strlen(val), ttl_ms,
	                   &t);
}

const char *ht_path(const char *name)
{
	static __thread char buf[4][512];
	static __thread int next;
	char *b = buf[next++ % 4];
	snprintf(b, 512, "%s/build/tests/host/%s", getenv("PWD") ? getenv("PWD") : ".", name);
	return b;
}

const char *ht_conf(const char *text)
{
	static char p[128];
	snprintf(p, sizeof p, "%s/app.conf", dir);
	FILE *f = fopen(p, "we");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	cr_assert_eq(chmod(p, 0644), 0);
	cr_assert_eq(chmod(dir, 0755), 0);
	return p;
}

pid_t ht_spawn(const char *conf, const char *const *argv, const char *out, int uid)
{
	char shim[600], cenv[600];
	snprintf(shim, sizeof shim, "LD_PRELOAD=%s/build/libldmemo.so", getenv("PWD"));
	snprintf(cenv, sizeof cenv, "LDMEMO_CONFIG=%s", conf);
	/* the environment passes (sanitizer options, for one), but for
	 * ldmemo's own variables */
	char *envp[256];
	int n = 0;
	for (char **e = environ; *e && n < 240; e++)
		if (strncmp(*e, "LDMEMO_", 7) != 0 && strncmp(*e, "LD_PRELOAD=", 11) != 0)
			envp[n++] = *e;
	envp[n++] = shim;
	envp[n++] = cenv;
	envp[n++] = "LDMEMO_STATS=stderr";
	envp[n++] = "LDMEMO_STATS_FORMAT=json";
	envp[n] = NULL;
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0666);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(126);
		if (uid >= 0 && (setgid((gid_t)uid) != 0 || setuid((uid_t)uid) != 0))
			_exit(126);
		execve(argv[0], (char **)argv, envp);
		_exit(127);
	}
	return pid;
}

int ht_wait(pid_t pid, int timeout_s)
{
	int st;
	for (int i = 0; i < timeout_s * 100; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

char *ht_slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	cr_assert_not_null(f, "%s", path);
	size_t cap = 1 << 16, n = 0, k;
	char *s = malloc(cap);
	while ((k = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += k;
		if (cap - n < 4096)
			s = realloc(s, cap *= 2);
	}
	s[n] = 0;
	fclose(f);
	return s;
}

void ht_unlink_map(const char *ns, unsigned uid)
{
	char p[512];
	if (lm_host_path(NULL, uid, ns, p, sizeof p) == 0)
		unlink(p);
}
