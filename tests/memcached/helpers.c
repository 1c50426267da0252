#include "helpers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim/tier/l2_internal.h"

static int dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct timeval tv = {1, 0};
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool spawn(struct lm_test_mc *t)
{
	char port[16];
	snprintf(port, sizeof port, "%d", t->port);
	pid_t parent = getpid();
	t->pid = fork();
	if (t->pid < 0)
		return false;
	if (t->pid == 0) {
		/* A test that crashes or times out takes its servers along. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) /* it died before the prctl */
			_exit(127);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		/* -u: memcached refuses to run as root without it. */
		execlp("memcached", "memcached", "-p", port, "-l", "127.0.0.1", "-U", "0", "-m",
		       "64", "-t", "2", "-u", geteuid() == 0 ? "root" : "nobody", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		int fd = dial(t->port);
		if (fd >= 0) {
			close(fd);
			return true;
		}
		usleep(10000);
	}
	return false;
}

bool lm_test_mc_start(struct lm_test_mc *t)
{
	memset(t, 0, sizeof *t);
	t->port = lm_test_free_port();
	return t->port > 0 && spawn(t);
}

bool lm_test_mc_restart(struct lm_test_mc *t)
{
	return spawn(t);
}

void lm_test_mc_kill(struct lm_test_mc *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		t->pid = 0;
	}
}

static bool ends_with(const char *buf, size_t n, const char *tail)
{
	size_t k = strlen(tail);
	return n >= k && memcmp(buf + n - k, tail, k) == 0;
}

long lm_test_mc_raw(int port, const void *cmd, size_t len, bool line, char *buf, size_t cap)
{
	int fd = dial(port);
	if (fd < 0)
		return -1;
	size_t n = 0;
	if (send(fd, cmd, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	while (n + 1 < cap) {
		ssize_t r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r <= 0)
			break;
		n += (size_t)r;
		if (line ? ends_with(buf, n, "\r\n")
		         : (n == 5 && memcmp(buf, "END\r\n", 5) == 0) ||
		               ends_with(buf, n, "\nEND\r\n"))
			break;
	}
	buf[n] = 0;
	close(fd);
	return (long)n;
}

long lm_test_mc_get(int port, const char *key, char *buf, size_t cap)
{
	char cmd[600], *reply = malloc(1 << 21);
	int len = snprintf(cmd, sizeof cmd, "get %s\r\n", key);
	long n = reply ? lm_test_mc_raw(port, cmd, (size_t)len, false, reply, 1 << 21) : -1;
	long out = -1;
	unsigned flags, bytes;
	char *nl = n > 0 ? strstr(reply, "\r\n") : NULL;
	if (nl && strncmp(reply, "VALUE ", 6) == 0 &&
	    sscanf(strchr(reply + 6, ' '), " %u %u", &flags, &bytes) == 2 &&
	    (size_t)(nl + 2 - reply) + bytes <= (size_t)n) {
		size_t k = bytes < cap ? bytes : cap;
		memcpy(buf, nl + 2, k);
		out = (long)bytes;
	}
	free(reply);
	return out;
}

bool lm_test_mc_set(int port, const char *key, const void *val, size_t len, long exptime)
{
	char *cmd = malloc(len + 600), reply[256];
	if (!cmd)
		return false;
	int h = snprintf(cmd, 600, "set %s 0 %ld %zu\r\n", key, exptime, len);
	memcpy(cmd + h, val, len);
	memcpy(cmd + h + len, "\r\n", 2);
	long n = lm_test_mc_raw(port, cmd, (size_t)h + len + 2, true, reply, sizeof reply);
	free(cmd);
	return n > 0 && strncmp(reply, "STORED", 6) == 0;
}

long lm_test_mc_stat(int port, const char *name)
{
	char reply[8192], want[128];
	if (lm_test_mc_raw(port, "stats\r\n", 7, false, reply, sizeof reply) <= 0)
		return -1;
	snprintf(want, sizeof want, "STAT %s ", name);
	char *s = strstr(reply, want);
	return s ? strtol(s + strlen(want), NULL, 10) : -1;
}

static struct lm_test_mc_reports reports;
static pthread_mutex_t reports_lock = PTHREAD_MUTEX_INITIALIZER;

static void report(const char *server, const char *why)
{
	(void)server;
	pthread_mutex_lock(&reports_lock);
	if (why) {
		reports.down++;
		snprintf(reports.why, sizeof reports.why, "%s", why);
	} else {
		reports.up++;
	}
	pthread_mutex_unlock(&reports_lock);
}

struct lm_test_mc_reports lm_test_mc_reports_now(void)
{
	pthread_mutex_lock(&reports_lock);
	struct lm_test_mc_reports r = reports;
	pthread_mutex_unlock(&reports_lock);
	return r;
}

void lm_test_mc_reports_reset(void)
{
	pthread_mutex_lock(&reports_lock);
	memset(&reports, 0, sizeof reports);
	pthread_mutex_unlock(&reports_lock);
}

int64_t lm_test_mc_deadline_ms = 50;

struct lm_l2 *lm_test_l2_open(struct lm_test_l2 *x, const struct lm_test_mc *t, int n,
                              const char *ns, int64_t l1_ttl_ms)
{
	memset(x, 0, sizeof *x);
	struct lm_tier_settings *s = &x->p.settings;
	*s = (struct lm_tier_settings){
	    .version = LM_TIER_SETTINGS_VERSION, .size = sizeof *s, .kind = LM_TIER_MEMCACHED};
	for (int i = 0; i < n; i++)
		x->hp[i] = (struct lm_tier_server){"127.0.0.1", t[i].port};
	s->servers = x->hp;
	s->nservers = (size_t)n;
	s->l1_ttl_ms = l1_ttl_ms;
	/* Slower runs (valgrind) need a longer deadline than the default. */
	const char *tmo = getenv("LM_TEST_REDIS_TIMEOUT_MS");
	s->timeout_ms = tmo ? atoi(tmo) : lm_test_mc_deadline_ms;
	s->max_entries = 10000;
	s->max_memory = 1 << 24;
	x->methods[M_USER] = (struct lm_l2_method){"get_user", 0x1111, true};
	x->methods[M_LOOKUP] = (struct lm_l2_method){"lookup", 0x2222, true};
	x->methods[M_LOCAL] = (struct lm_l2_method){"local_fn", 0x3333, false};
	x->p.namespace_ = ns ? ns : "lmtest";
	x->p.methods = x->methods;
	x->p.nmethods = LM_TEST_NMETHODS;
	x->p.report = report;
	char why[128] = "";
	x->l2 = lm_l2_open(&x->p, why, sizeof why);
	return x->l2;
}

void lm_test_l2_close(struct lm_test_l2 *x)
{
	lm_l2_close(x->l2);
	x->l2 = NULL;
}

/* The generation NAME holds on any of the servers. */
static bool read_gen(const struct lm_test_mc *t, int n, const char *name, uint64_t *gen)
{
	char key[600], val[64];
	struct lm_buf b = {0};
	lm_l2_mc_key(&b, name, strlen(name));
	snprintf(key, sizeof key, "%.*s", (int)b.len, (const char *)b.p);
	lm_buf_free(&b);
	for (int i = 0; i < n; i++) {
		long len = lm_test_mc_get(t[i].port, key, val, sizeof val - 1);
		if (len > 0 && len < (long)sizeof val) {
			val[len] = 0;
			*gen = strtoull(val, NULL, 10);
			return true;
		}
	}
	return false;
}

bool lm_test_data_key(const struct lm_test_mc *t, int n, const char *ns, const char *method,
                      const char *key, char *buf, size_t len)
{
	char all[512], one[512];
	uint64_t ggen, mgen;
	snprintf(all, sizeof all, "%s:#gen", ns);
	snprintf(one, sizeof one, "%s:#gen:%s", ns, method);
	if (!read_gen(t, n, all, &ggen) || !read_gen(t, n, one, &mgen))
		return false;
	struct lm_buf name = {0}, mkey = {0};
	lm_l2_data_name(&name, ns, method, ggen, mgen, lm_l2_key_hash(key, (uint32_t)strlen(key)));
	lm_l2_mc_key(&mkey, (const char *)name.p, name.len);
	snprintf(buf, len, "%.*s", (int)mkey.len, (const char *)mkey.p);
	lm_buf_free(&name);
	lm_buf_free(&mkey);
	return true;
}

int lm_test_where(const struct lm_test_mc *t, int n, const char *key)
{
	char val[16];
	for (int i = 0; i < n; i++)
		if (lm_test_mc_get(t[i].port, key, val, sizeof val) >= 0)
			return i;
	return -1;
}
