#include "helpers.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shim/tier/l2_internal.h"

static bool spawn(struct lm_test_redis *t)
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
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
		       "--unixsocket", t->sock, "--save", "", "--appendonly", "no", "--daemonize",
		       "no", "--dir", t->dir, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		redisContext *c = redisConnectUnix(t->sock);
		bool ok = c && !c->err;
		if (c)
			redisFree(c);
		if (ok)
			return true;
		usleep(10000);
	}
	return false;
}

bool lm_test_redis_start(struct lm_test_redis *t)
{
	memset(t, 0, sizeof *t);
	snprintf(t->dir, sizeof t->dir, "/tmp/lm-redis-XXXXXX");
	if (!mkdtemp(t->dir))
		return false;
	snprintf(t->sock, sizeof t->sock, "%s/redis.sock", t->dir);
	t->port = lm_test_free_port();
	return t->port > 0 && spawn(t);
}

bool lm_test_redis_restart(struct lm_test_redis *t)
{
	unlink(t->sock);
	return spawn(t);
}

void lm_test_redis_kill(struct lm_test_redis *t)
{
	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		t->pid = 0;
	}
}

void lm_test_redis_stop(struct lm_test_redis *t)
{
	lm_test_redis_kill(t);
	unlink(t->sock);
	rmdir(t->dir);
}

redisContext *lm_test_redis_raw(const struct lm_test_redis *t)
{
	redisContext *c = redisConnectUnix(t->sock);
	if (c && c->err) {
		redisFree(c);
		return NULL;
	}
	return c;
}

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

static void record(void *arg, uint32_t method, const void *key, uint32_t klen)
{
	struct lm_test_l2 *x = arg;
	pthread_mutex_lock(&seen_lock);
	if (method == LM_L2_ALL) {
		x->seen.all++;
	} else if (method < LM_TEST_NMETHODS && !key) {
		x->seen.method[method]++;
	} else if (method < LM_TEST_NMETHODS) {
		x->seen.key[method]++;
		size_t n = klen < sizeof x->seen.last_key - 1 ? klen : sizeof x->seen.last_key - 1;
		memcpy(x->seen.last_key, key, n);
		x->seen.last_key[n] = 0;
	}
	pthread_mutex_unlock(&seen_lock);
}

struct lm_test_inval lm_test_seen(struct lm_test_l2 *x)
{
	pthread_mutex_lock(&seen_lock);
	struct lm_test_inval s = x->seen;
	pthread_mutex_unlock(&seen_lock);
	return s;
}

const char *lm_test_host;

struct lm_l2 *lm_test_l2_open(struct lm_test_l2 *x, const struct lm_test_redis *t, bool tcp,
                              uint64_t fp)
{
	memset(x, 0, sizeof *x);
	struct lm_tier_settings *s = &x->p.settings;
	*s = (struct lm_tier_settings){
	    .version = LM_TIER_SETTINGS_VERSION, .size = sizeof *s, .kind = LM_TIER_REDIS};
	if (tcp) {
		x->hp.host = lm_test_host ? lm_test_host : "127.0.0.1";
		x->hp.port = t->port;
		s->servers = &x->hp;
		s->nservers = 1;
	} else {
		s->unix_path = t->sock;
	}
	s->l1_ttl_ms = 1000;
	/* Slower runs (valgrind) need a longer deadline than the default. */
	const char *tmo = getenv("LM_TEST_REDIS_TIMEOUT_MS");
	s->timeout_ms = tmo ? atoi(tmo) : 50;
	s->max_entries = 10000;
	s->max_memory = 1 << 24;
	x->methods[M_USER] = (struct lm_l2_method){"get_user", fp, true};
	x->methods[M_LOOKUP] = (struct lm_l2_method){"lookup", 0x2222, true};
	x->methods[M_LOCAL] = (struct lm_l2_method){"local_fn", 0x3333, false};
	x->p.namespace_ = "lmtest";
	x->p.methods = x->methods;
	x->p.nmethods = LM_TEST_NMETHODS;
	x->p.invalidate = record;
	x->p.arg = x;
	x->p.report = lm_test_report;
	char why[128] = "";
	x->l2 = lm_l2_open(&x->p, why, sizeof why);
	return x->l2;
}

void lm_test_l2_close(struct lm_test_l2 *x)
{
	lm_l2_close(x->l2);
	x->l2 = NULL;
}

void lm_test_name(const char *method, const char *key, char *buf, size_t len)
{
	struct lm_buf b = {0};
	lm_l2_data_name(&b, "lmtest", method, 0, 0, lm_l2_key_hash(key, strlen(key)));
	snprintf(buf, len, "%.*s", (int)b.len, (const char *)b.p);
	lm_buf_free(&b);
}

struct lm_test_reports lm_test_reports;
static pthread_mutex_t reports_lock = PTHREAD_MUTEX_INITIALIZER;

void lm_test_report(const char *server, const char *why)
{
	(void)server;
	pthread_mutex_lock(&reports_lock);
	if (why) {
		lm_test_reports.down++;
		snprintf(lm_test_reports.why, sizeof lm_test_reports.why, "%s", why);
	} else {
		lm_test_reports.up++;
	}
	pthread_mutex_unlock(&reports_lock);
}

struct lm_test_reports lm_test_reports_now(void)
{
	pthread_mutex_lock(&reports_lock);
	struct lm_test_reports r = lm_test_reports;
	pthread_mutex_unlock(&reports_lock);
	return r;
}
