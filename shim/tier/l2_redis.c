/* The Redis shared tier (spec section 6) on hiredis 0.14.1, RESP2 only.
 *
 * Data connections come from a small locked pool: a hiredis context is not
 * thread-safe, a pool gives each call one to itself, grows to the peak
 * concurrency, and lets close and fork reach every idle connection (a
 * per-thread connection would need a TLS key per instance and leak on
 * close). Each data connection tracks the namespace (`CLIENT TRACKING on
 * REDIRECT id BCAST PREFIX NS: NOLOOP`) towards the invalidation
 * connection, which a background thread keeps subscribed to
 * __redis__:invalidate; the thread turns key names back into L1 drops
 * through the key map. Method-wide drops bump generations that are part
 * of every key name; processes cache them while the invalidation link is
 * up (a change of a generation key is announced on it like any write).
 *
 * Every command has the redis_timeout deadline (SO_RCVTIMEO/SO_SNDTIMEO,
 * non-blocking connect); a failure puts the backend in backoff, during
 * which calls answer LM_L2_DOWN without touching the network. */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "l2_internal.h"
#include "shim/base/clock.h"

#define POOL_IDLE_MAX   8
#define PING_IDLE_MS    1000 /* ping the invalidation link when quiet this long */
#define PING_ANSWER_MS  1000 /* beyond redis_timeout, before it counts as lost */
#define THREAD_RETRY_MS 1000
#define INVAL_CHANNEL   "__redis__:invalidate"
#define KEYMAP_MIN      1024

struct rmethod {
	const char *name;
	size_t nlen;
	uint64_t fingerprint;
	/* cached generations, valid while have && seq == stale_seq && inval_up */
	uint64_t ggen, mgen, seq;
	bool have;
};

struct conn {
	redisContext *c;
	uint64_t epoch;       /* conn_epoch when it was opened */
	uint64_t track_epoch; /* inval_epoch its tracking redirects to; 0: none */
	uint64_t want_epoch;
	int pending;         /* tracking replies queued ahead of the command's */
	int64_t deadline_ns; /* CLOCK_MONOTONIC: the call's answers are due by then */
	bool timed_out;
	struct conn *next;
};

struct redis_l2 {
	struct lm_l2 base;
	char *ns, *prefix; /* "NS", "NS:" */
	struct rmethod *m;
	uint32_t nm;
	uint32_t *by_name; /* method ids sorted by name */
	char *host, *unix_path, *password;
	int port, db;
	struct timeval tv;
	int64_t timeout_ms;
	struct lm_backoff bo;
	struct lm_keymap *km;

	pthread_mutex_t lock; /* the pool, the generations, the link state */
	struct conn *idle;
	unsigned nidle;
	uint64_t conn_epoch; /* atomic: bumped on a failure, older connections are not reused */
	uint64_t stale_seq;  /* atomic: bumped whenever cached generations may be wrong */
	bool lost_drops;     /* atomic: a drop did not reach Redis */
	bool inval_up;
	long long inval_id;
	uint64_t inval_epoch;

	/* the invalidation thread */
	pthread_t thread;
	bool thread_on, stop;
	int64_t thread_retry_ms;
	int wake_fd;  /* eventfd: wakes the thread to stop */
	int inval_fd; /* its socket, for a fork child to close */
	pid_t pid;
	struct redis_l2 *next; /* fork registry */
};

static struct redis_l2 *as_redis(struct lm_l2 *l)
{
	return (struct redis_l2 *)l;
}

/* ---- SIGPIPE ------------------------------------------------------------- */

/* hiredis writes with write(2): a peer that closed would raise SIGPIPE in
 * the host program. Block it around our I/O and swallow one we caused. */
struct pipe_guard {
	sigset_t old;
	bool was_pending;
};

static void pipe_guard_on(struct pipe_guard *g)
{
	sigset_t s, pend;
	sigemptyset(&s);
	sigaddset(&s, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &s, &g->old);
	sigpending(&pend);
	g->was_pending = sigismember(&pend, SIGPIPE);
}

static void pipe_guard_off(struct pipe_guard *g)
{
	sigset_t s, pend;
	if (!g->was_pending && sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE)) {
		struct timespec zero = {0, 0};
		sigemptyset(&s);
		sigaddset(&s, SIGPIPE);
		sigtimedwait(&s, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- Methods ------------------------------------------------------------- */

static const struct redis_l2 *sort_ctx;

static int by_name_cmp(const void *a, const void *b)
{
	return strcmp(sort_ctx->m[*(const uint32_t *)a].name,
	              sort_ctx->m[*(const uint32_t *)b].name);
}

/* The id of the method named by NAME[0..LEN), or -1. */
static int64_t find_method(const struct redis_l2 *r, const char *name, size_t len)
{
	size_t lo = 0, hi = r->nm;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct rmethod *m = &r->m[r->by_name[mid]];
		size_t n = m->nlen < len ? m->nlen : len;
		int c = memcmp(m->name, name, n);
		if (c == 0)
			c = (m->nlen > len) - (m->nlen < len);
		if (c == 0)
			return r->by_name[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void bump_stale(struct redis_l2 *r)
{
	__atomic_add_fetch(&r->stale_seq, 1, __ATOMIC_ACQ_REL);
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- Connections ----------------------------------------------------------- */

static bool reply_ok(const redisReply *rep)
{
	return rep && rep->type != REDIS_REPLY_ERROR;
}

/* Connect, authenticate, select the database; NULL when down or refused,
 * with WHY. */
static redisContext *dial(const struct redis_l2 *r, bool select_db, char *why, size_t whylen)
{
	redisContext *c = r->unix_path ? redisConnectUnixWithTimeout(r->unix_path, r->tv)
	                               : redisConnectWithTimeout(r->host, r->port, r->tv);
	if (!c) {
		snprintf(why, whylen, "cannot allocate a connection");
		return NULL;
	}
	if (c->err || redisSetTimeout(c, r->tv) != REDIS_OK) {
		snprintf(why, whylen, "cannot connect: %s", c->errstr);
		goto fail;
	}
	int n = 0;
	if (r->password && redisAppendCommand(c, "AUTH %s", r->password) == REDIS_OK)
		n++;
	if (select_db && r->db && redisAppendCommand(c, "SELECT %d", r->db) == REDIS_OK)
		n++;
	for (int i = 0; i < n; i++) {
		redisReply *rep = NULL;
		if (redisGetReply(c, (void **)&rep) != REDIS_OK) {
			snprintf(why, whylen, "no answer: %s", c->errstr);
			goto fail;
		}
		bool ok = reply_ok(rep);
		if (!ok)
			snprintf(why, whylen, "refused %s: %s",
			         i == 0 && r->password ? "the password" : "the database",
			         rep && rep->str ? rep->str : "an error");
		freeReplyObject(rep);
		if (!ok)
			goto fail;
	}
	return c;
fail:
	redisFree(c);
	return NULL;
}

static void report(const struct redis_l2 *r, const char *why)
{
	if (r->base.p.report)
		r->base.p.report(r->base.p.settings.url, why);
}

static void free_conns(struct conn *cn)
{
	while (cn) {
		struct conn *next = cn->next;
		redisFree(cn->c);
		free(cn);
		cn = next;
	}
}

/* A fork child: the parent's sockets and thread are not ours. Idle
 * connections are consistent (the pool lock was held across fork) and are
 * closed; the thread's context may be mid-use, so only its socket is. */
static void child_reset(struct redis_l2 *r)
{
	free_conns(r->idle);
	r->idle = NULL;
	r->nidle = 0;
	__atomic_add_fetch(&r->conn_epoch, 1, __ATOMIC_ACQ_REL);
	if (r->inval_fd >= 0)
		close(r->inval_fd);
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	r->inval_fd = r->wake_fd = -1;
	r->thread_on = false;
	r->inval_up = false;
	r->thread_retry_ms = 0;
	bump_stale(r);
	r->pid = getpid();
}

static void *inval_main(void *arg);

static void ensure_thread(struct redis_l2 *r)
{
	if (__atomic_load_n(&r->thread_on, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&r->lock);
	int64_t now = lm_clock_ms();
	if (!r->thread_on && now >= r->thread_retry_ms) {
		r->thread_retry_ms = now + THREAD_RETRY_MS;
		r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (r->wake_fd >= 0) {
			/* The thread takes no signals meant for the program. */
			sigset_t all, old;
			sigfillset(&all);
			pthread_sigmask(SIG_SETMASK, &all, &old);
			r->stop = false;
			if (pthread_create(&r->thread, NULL, inval_main, r) == 0) {
				__atomic_store_n(&r->thread_on, true, __ATOMIC_RELEASE);
			} else {
				close(r->wake_fd);
				r->wake_fd = -1;
			}
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		}
	}
	pthread_mutex_unlock(&r->lock);
}

/* A connection for one call, with its tracking requests queued; NULL when
 * the backend is down or in backoff. */
static struct conn *acquire(struct redis_l2 *r)
{
	if (r->pid != getpid()) {
		pthread_mutex_lock(&r->lock);
		if (r->pid != getpid())
			child_reset(r);
		pthread_mutex_unlock(&r->lock);
	}
	ensure_thread(r);
	if (!lm_backoff_admit(&r->bo, lm_clock_ms()))
		return NULL;
	uint64_t epoch = __atomic_load_n(&r->conn_epoch, __ATOMIC_ACQUIRE);
	struct conn *cn = NULL, *stale = NULL;
	pthread_mutex_lock(&r->lock);
	while (r->idle && !cn) {
		struct conn *c = r->idle;
		r->idle = c->next;
		r->nidle--;
		if (c->epoch == epoch) {
			cn = c;
		} else {
			c->next = stale;
			stale = c;
		}
	}
	bool up = r->inval_up;
	long long id = r->inval_id;
	uint64_t iepoch = r->inval_epoch;
	pthread_mutex_unlock(&r->lock);
	free_conns(stale);
	if (!cn) {
		cn = calloc(1, sizeof *cn);
		if (!cn)
			return NULL;
		char why[256];
		cn->c = dial(r, true, why, sizeof why);
		if (!cn->c) {
			free(cn);
			if (lm_backoff_fail(&r->bo, lm_clock_ms()))
				report(r, why);
			return NULL;
		}
		cn->epoch = epoch;
	}
	cn->next = NULL;
	cn->pending = 0;
	cn->timed_out = false;
	cn->deadline_ns = mono_ns() + r->timeout_ms * 1000000;
	if (up && cn->track_epoch != iepoch) {
		/* Redis refuses a second identical prefix: turn tracking off
		 * before redirecting it to the new invalidation link. */
		if (cn->track_epoch && redisAppendCommand(cn->c, "CLIENT TRACKING off") == REDIS_OK)
			cn->pending++;
		if (redisAppendCommand(cn->c,
		                       "CLIENT TRACKING on REDIRECT %lld BCAST PREFIX %s NOLOOP",
		                       id, r->prefix) == REDIS_OK)
			cn->pending++;
		cn->want_epoch = iepoch;
	}
	return cn;
}

/* One reply by CN's deadline. hiredis's blocking read waits on
 * SO_RCVTIMEO, which the kernel rounds up to its tick: a 50 ms timeout
 * took 52-55 ms. ppoll keeps to the deadline within its slack. */
static int get_reply(struct conn *cn, void **out)
{
	redisContext *c = cn->c;
	int flushed = 0;

	*out = NULL;
	if (redisGetReplyFromReader(c, out) != REDIS_OK)
		return -1;
	while (!*out) {
		while (!flushed)
			if (redisBufferWrite(c, &flushed) != REDIS_OK)
				return -1;
		int64_t left = cn->deadline_ns - mono_ns();
		if (left <= 0) {
			cn->timed_out = true;
			return -1;
		}
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		struct timespec ts = {left / 1000000000, left % 1000000000};
		int n = ppoll(&p, 1, &ts, NULL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			cn->timed_out = n == 0;
			return -1;
		}
		if (redisBufferRead(c) != REDIS_OK || redisGetReplyFromReader(c, out) != REDIS_OK)
			return -1;
	}
	return 0;
}

/* Read the replies of what was queued on CN: the tracking requests, then N
 * commands into REP. -1 when the connection failed (timeout, closed). */
static int exec(struct conn *cn, redisReply **rep, int n)
{
	for (int i = 0; i < n; i++)
		rep[i] = NULL;
	while (cn->pending > 0) {
		redisReply *t = NULL;
		if (get_reply(cn, (void **)&t) != 0)
			return -1;
		if (--cn->pending == 0)
			cn->track_epoch = reply_ok(t) ? cn->want_epoch : 0;
		freeReplyObject(t);
	}
	for (int i = 0; i < n; i++) {
		if (get_reply(cn, (void **)&rep[i]) != 0) {
			for (int j = 0; j <= i; j++)
				if (rep[j])
					freeReplyObject(rep[j]);
			return -1;
		}
	}
	return 0;
}

static void free_replies(redisReply **rep, int n)
{
	for (int i = 0; i < n; i++)
		if (rep[i])
			freeReplyObject(rep[i]);
}

static void release(struct redis_l2 *r, struct conn *cn, bool ok)
{
	if (!ok) {
		char why[256];
		if (cn->timed_out || !cn->c->err)
			snprintf(why, sizeof why, "no answer within redis_timeout (%lld ms)",
			         (long long)r->timeout_ms);
		else
			snprintf(why, sizeof why, "the connection failed: %s", cn->c->errstr);
		redisFree(cn->c);
		free(cn);
		__atomic_add_fetch(&r->conn_epoch, 1, __ATOMIC_ACQ_REL);
		if (lm_backoff_fail(&r->bo, lm_clock_ms()))
			report(r, why);
		return;
	}
	if (lm_backoff_ok(&r->bo))
		report(r, NULL);
	pthread_mutex_lock(&r->lock);
	if (cn->epoch == __atomic_load_n(&r->conn_epoch, __ATOMIC_ACQUIRE) &&
	    r->nidle < POOL_IDLE_MAX && r->pid == getpid()) {
		cn->next = r->idle;
		r->idle = cn;
		r->nidle++;
		cn = NULL;
	}
	pthread_mutex_unlock(&r->lock);
	if (cn)
		free_conns(cn);
}

/* ---- Generations --------------------------------------------------------- */

static uint64_t parse_gen(const redisReply *rep)
{
	uint64_t v = 0;
	if (!rep || rep->type != REDIS_REPLY_STRING || rep->len < 1 || rep->len > 19)
		return 0;
	for (size_t i = 0; i < rep->len; i++) {
		if (rep->str[i] < '0' || rep->str[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(rep->str[i] - '0');
	}
	return v;
}

/* The generations METHOD's key names use now: cached while the
 * invalidation link would tell us of a change, else read (MGET). */
static int generations(struct redis_l2 *r, struct conn *cn, uint32_t method, uint64_t *ggen,
                       uint64_t *mgen)
{
	uint64_t seq = __atomic_load_n(&r->stale_seq, __ATOMIC_ACQUIRE);
	struct rmethod *m = &r->m[method];
	pthread_mutex_lock(&r->lock);
	bool cached = r->inval_up && m->have && m->seq == seq;
	*ggen = m->ggen;
	*mgen = m->mgen;
	pthread_mutex_unlock(&r->lock);
	if (cached)
		return 0;

	struct lm_buf all = {0}, one = {0};
	int rc = -1;
	if (lm_l2_gen_name(&all, r->ns, NULL) == 0 && lm_l2_gen_name(&one, r->ns, m->name) == 0 &&
	    redisAppendCommand(cn->c, "MGET %b %b", all.p, all.len, one.p, one.len) == REDIS_OK) {
		redisReply *rep;
		rc = exec(cn, &rep, 1);
		if (rc == 0) {
			if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2) {
				*ggen = parse_gen(rep->element[0]);
				*mgen = parse_gen(rep->element[1]);
				pthread_mutex_lock(&r->lock);
				m->ggen = *ggen;
				m->mgen = *mgen;
				m->seq = seq;
				m->have = true;
				pthread_mutex_unlock(&r->lock);
			} else {
				rc =
				    1; /* not ours to interpret: the call fails, the link is fine */
			}
			freeReplyObject(rep);
		}
	}
	lm_buf_free(&all);
	lm_buf_free(&one);
	return rc;
}

/* A drop that never reached Redis: before the first command once Redis
 * answers again, drop everything (other processes must not keep reading
 * what that drop would have removed). -1 when the connection failed. */
static int replay_lost_drops(struct redis_l2 *r, struct conn *cn)
{
	if (!__atomic_exchange_n(&r->lost_drops, false, __ATOMIC_ACQ_REL))
		return 0;
	struct lm_buf name = {0};
	redisReply *rep;
	int rc = -1;
	if (lm_l2_gen_name(&name, r->ns, NULL) == 0 &&
	    redisAppendCommand(cn->c, "INCR %b", name.p, name.len) == REDIS_OK) {
		rc = exec(cn, &rep, 1);
		if (rc == 0) {
			freeReplyObject(rep);
			bump_stale(r);
		}
	}
	if (rc != 0)
		__atomic_store_n(&r->lost_drops, true, __ATOMIC_RELEASE);
	lm_buf_free(&name);
	return rc;
}

/* ---- Calls ------------------------------------------------------------------ */

/* Outcome of one exchange on a connection. */
enum xres { XR_OK, XR_REFUSED, XR_FAILED };

static enum xres data_name(struct redis_l2 *r, struct conn *cn, uint32_t method,
                           struct lm_l2_hash h, struct lm_buf *name)
{
	uint64_t ggen, mgen;
	int rc = generations(r, cn, method, &ggen, &mgen);
	if (rc < 0)
		return XR_FAILED;
	if (rc > 0 || lm_l2_data_name(name, r->ns, r->m[method].name, ggen, mgen, h) != 0)
		return XR_REFUSED;
	return XR_OK;
}

struct get_out {
	const void *key;
	uint32_t klen;
	struct lm_buf *out;
	int64_t *left;
	bool hit;
};

static enum xres get_on(struct redis_l2 *r, struct conn *cn, uint32_t method, struct lm_l2_hash h,
                        struct get_out *g)
{
	struct lm_buf name = {0};
	enum xres x = data_name(r, cn, method, h, &name);
	if (x != XR_OK)
		goto out;
	if (redisAppendCommand(cn->c, "GET %b", name.p, name.len) != REDIS_OK ||
	    redisAppendCommand(cn->c, "PTTL %b", name.p, name.len) != REDIS_OK) {
		/* Half a pipeline may be queued: the connection is unusable. */
		x = XR_FAILED;
		goto out;
	}
	redisReply *rep[2];
	if (exec(cn, rep, 2) != 0) {
		x = XR_FAILED;
		goto out;
	}
	const void *val;
	size_t vlen;
	if (rep[0]->type == REDIS_REPLY_STRING &&
	    lm_l2_value_check(rep[0]->str, rep[0]->len, r->m[method].fingerprint, g->key, g->klen,
	                      &val, &vlen) &&
	    lm_buf_append(g->out, val, vlen) == 0) {
		g->hit = true;
		*g->left = rep[1]->type == REDIS_REPLY_INTEGER && rep[1]->integer >= 0
		               ? rep[1]->integer
		               : -1;
	}
	free_replies(rep, 2);
out:
	lm_buf_free(&name);
	return x;
}

static enum lm_l2_result r_get(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen,
                               struct lm_buf *out, int64_t *left)
{
	struct redis_l2 *r = as_redis(l);
	struct lm_l2_hash h = lm_l2_key_hash(key, klen);
	/* Before the GET: an invalidation racing with its reply must find
	 * the key (Redis's placeholder rule; the store refuses the fill). */
	lm_keymap_note(r->km, method, h, key, klen);
	struct pipe_guard pg;
	pipe_guard_on(&pg);
	enum lm_l2_result res = LM_L2_DOWN;
	struct conn *cn = acquire(r);
	if (cn) {
		struct get_out g = {key, klen, out, left, false};
		enum xres x = replay_lost_drops(r, cn) ? XR_FAILED : get_on(r, cn, method, h, &g);
		release(r, cn, x != XR_FAILED);
		res = x == XR_FAILED ? LM_L2_DOWN : g.hit ? LM_L2_HIT : LM_L2_MISS;
	}
	pipe_guard_off(&pg);
	return res;
}

static enum xres set_on(struct redis_l2 *r, struct conn *cn, uint32_t method, struct lm_l2_hash h,
                        const struct lm_buf *blob, int64_t ttl_ms, bool *stored)
{
	struct lm_buf name = {0};
	enum xres x = data_name(r, cn, method, h, &name);
	if (x != XR_OK)
		goto out;
	int q = ttl_ms == LM_L2_TTL_NEVER
	            ? redisAppendCommand(cn->c, "SET %b %b", name.p, name.len, blob->p, blob->len)
	            : redisAppendCommand(cn->c, "SET %b %b PX %lld", name.p, name.len, blob->p,
	                                 blob->len, (long long)ttl_ms);
	redisReply *rep;
	if (q != REDIS_OK || exec(cn, &rep, 1) != 0) {
		x = XR_FAILED;
		goto out;
	}
	*stored = reply_ok(rep);
	freeReplyObject(rep);
out:
	lm_buf_free(&name);
	return x;
}

static enum lm_l2_result r_set(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen,
                               const void *val, size_t vlen, int64_t ttl_ms)
{
	struct redis_l2 *r = as_redis(l);
	struct lm_l2_hash h = lm_l2_key_hash(key, klen);
	lm_keymap_note(r->km, method, h, key, klen);
	struct lm_buf blob = {0};
	if (lm_l2_value_encode(&blob, r->m[method].fingerprint, key, klen, val, vlen) != 0)
		return LM_L2_MISS;
	struct pipe_guard pg;
	pipe_guard_on(&pg);
	enum lm_l2_result res = LM_L2_DOWN;
	struct conn *cn = acquire(r);
	if (cn) {
		bool stored = false;
		enum xres x = replay_lost_drops(r, cn)
		                  ? XR_FAILED
		                  : set_on(r, cn, method, h, &blob, ttl_ms, &stored);
		release(r, cn, x != XR_FAILED);
		res = x == XR_FAILED ? LM_L2_DOWN : stored ? LM_L2_HIT : LM_L2_MISS;
	}
	pipe_guard_off(&pg);
	lm_buf_free(&blob);
	return res;
}

/* One write command on NAME (DEL or INCR); a drop that fails is
 * remembered for replay_lost_drops. */
static void drop_cmd(struct redis_l2 *r, const char *cmd, uint32_t method, const void *key,
                     uint32_t klen)
{
	struct pipe_guard pg;
	pipe_guard_on(&pg);
	bool done = false;
	struct conn *cn = acquire(r);
	if (cn) {
		struct lm_buf name = {0};
		enum xres x = XR_REFUSED;
		if (replay_lost_drops(r, cn))
			x = XR_FAILED;
		else if (key)
			x = data_name(r, cn, method, lm_l2_key_hash(key, klen), &name);
		else if (lm_l2_gen_name(&name, r->ns,
		                        method == LM_L2_ALL ? NULL : r->m[method].name) == 0)
			x = XR_OK;
		redisReply *rep;
		if (x == XR_OK) {
			if (redisAppendCommand(cn->c, "%s %b", cmd, name.p, name.len) != REDIS_OK ||
			    exec(cn, &rep, 1) != 0) {
				x = XR_FAILED;
			} else {
				done = reply_ok(rep);
				freeReplyObject(rep);
			}
		}
		lm_buf_free(&name);
		release(r, cn, x != XR_FAILED);
	}
	if (!done)
		__atomic_store_n(&r->lost_drops, true, __ATOMIC_RELEASE);
	else if (!key)
		bump_stale(r); /* our own generation bump: NOLOOP keeps it from us */
	pipe_guard_off(&pg);
}

static void r_drop_key(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen)
{
	drop_cmd(as_redis(l), "DEL", method, key ? key : "", key ? klen : 0);
}

static void r_drop_method(struct lm_l2 *l, uint32_t method)
{
	drop_cmd(as_redis(l), "INCR", method, NULL, 0);
}

static void r_drop_all(struct lm_l2 *l)
{
	drop_cmd(as_redis(l), "INCR", LM_L2_ALL, NULL, 0);
}

/* ---- The invalidation thread ---------------------------------------------- */

static void wait_wake(struct redis_l2 *r, int64_t ms)
{
	struct pollfd p = {.fd = r->wake_fd, .events = POLLIN};
	poll(&p, 1, (int)ms);
}

static void link_lost(struct redis_l2 *r)
{
	pthread_mutex_lock(&r->lock);
	r->inval_up = false;
	r->inval_fd = -1;
	pthread_mutex_unlock(&r->lock);
	bump_stale(r);
	lm_keymap_invalidate_method(r->km, LM_L2_ALL);
}

/* Connect, learn our client id, subscribe. NULL when down. */
static redisContext *link_open(struct redis_l2 *r)
{
	char why[256];
	redisContext *c = dial(r, false, why, sizeof why);
	if (!c)
		return NULL; /* the data connections report it */
	redisReply *rep = redisCommand(c, "CLIENT ID");
	long long id = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
	if (rep)
		freeReplyObject(rep);
	rep = id >= 0 ? redisCommand(c, "SUBSCRIBE " INVAL_CHANNEL) : NULL;
	bool ok = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 3;
	if (rep)
		freeReplyObject(rep);
	if (!ok) {
		redisFree(c);
		return NULL;
	}
	pthread_mutex_lock(&r->lock);
	r->inval_id = id;
	r->inval_epoch++;
	r->inval_up = true;
	r->inval_fd = c->fd;
	pthread_mutex_unlock(&r->lock);
	/* Writes while we were not subscribed went unannounced. */
	bump_stale(r);
	lm_keymap_invalidate_method(r->km, LM_L2_ALL);
	return c;
}

static void on_key(struct redis_l2 *r, const char *name, size_t len)
{
	struct lm_l2_name n;
	int64_t id;
	switch (lm_l2_parse_name(r->ns, name, len, &n)) {
	case LM_L2_NAME_GEN_ALL:
		bump_stale(r);
		lm_keymap_invalidate_method(r->km, LM_L2_ALL);
		break;
	case LM_L2_NAME_GEN_METHOD:
		if ((id = find_method(r, n.method, n.mlen)) >= 0) {
			bump_stale(r);
			lm_keymap_invalidate_method(r->km, (uint32_t)id);
		}
		break;
	case LM_L2_NAME_DATA:
		if ((id = find_method(r, n.method, n.mlen)) >= 0)
			lm_keymap_invalidate(r->km, (uint32_t)id, n.hash);
		break;
	case LM_L2_NAME_OTHER:
		break;
	}
}

/* ["message", "__redis__:invalidate", [keys...] or nil (flush)]. */
static void on_message(struct redis_l2 *r, const redisReply *rep)
{
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3)
		return;
	const redisReply *kind = rep->element[0], *chan = rep->element[1], *keys = rep->element[2];
	if (kind->type != REDIS_REPLY_STRING || kind->len != 7 ||
	    memcmp(kind->str, "message", 7) != 0 || chan->type != REDIS_REPLY_STRING ||
	    strcmp(chan->str, INVAL_CHANNEL) != 0)
		return;
	if (keys->type == REDIS_REPLY_NIL) {
		bump_stale(r);
		lm_keymap_invalidate_method(r->km, LM_L2_ALL);
	} else if (keys->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < keys->elements; i++)
			if (keys->element[i]->type == REDIS_REPLY_STRING)
				on_key(r, keys->element[i]->str, keys->element[i]->len);
	}
}

/* Serve the link until it fails, goes quiet past a ping, or we stop. */
static void link_serve(struct redis_l2 *r, redisContext *c)
{
	int64_t last_rx = lm_clock_ms(), ping_at = 0;
	for (;;) {
		void *rep;
		for (;;) {
			if (redisGetReplyFromReader(c, &rep) != REDIS_OK)
				return;
			if (!rep)
				break;
			on_message(r, rep);
			freeReplyObject(rep);
		}
		struct pollfd p[2] = {{.fd = c->fd, .events = POLLIN},
		                      {.fd = r->wake_fd, .events = POLLIN}};
		int n = poll(p, 2, PING_IDLE_MS / 4);
		if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			return;
		int64_t now = lm_clock_ms();
		if (n > 0 && p[0].revents) {
			if (redisBufferRead(c) != REDIS_OK)
				return;
			last_rx = now;
			ping_at = 0;
			continue;
		}
		if (ping_at && now - ping_at > r->timeout_ms + PING_ANSWER_MS)
			return;
		if (!ping_at && now - last_rx >= PING_IDLE_MS) {
			int done = 0;
			if (redisAppendCommand(c, "PING") != REDIS_OK)
				return;
			while (!done)
				if (redisBufferWrite(c, &done) != REDIS_OK)
					return;
			ping_at = now;
		}
	}
}

static void *inval_main(void *arg)
{
	struct redis_l2 *r = arg;
	if (r->base.p.thread_init)
		r->base.p.thread_init();
	int64_t step = 0;
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		redisContext *c = link_open(r);
		if (c) {
			step = 0;
			link_serve(r, c);
			link_lost(r);
			redisFree(c);
		}
		if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			break;
		step = step ? step * 2 : LM_L2_BACKOFF_MIN_MS;
		if (step > LM_L2_BACKOFF_MAX_MS)
			step = LM_L2_BACKOFF_MAX_MS;
		wait_wake(r, step);
	}
	return NULL;
}

/* ---- fork ---------------------------------------------------------------- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct redis_l2 *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
	for (struct redis_l2 *r = registry; r; r = r->next) {
		pthread_mutex_lock(&r->lock);
		lm_keymap_lock(r->km);
	}
}

static void fork_parent(void)
{
	for (struct redis_l2 *r = registry; r; r = r->next) {
		lm_keymap_unlock(r->km);
		pthread_mutex_unlock(&r->lock);
	}
	pthread_mutex_unlock(&registry_lock);
}

static void fork_child(void)
{
	for (struct redis_l2 *r = registry; r; r = r->next) {
		lm_keymap_unlock(r->km);
		child_reset(r);
		pthread_mutex_unlock(&r->lock);
	}
	pthread_mutex_unlock(&registry_lock);
}

static void register_atfork(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- Open and close ------------------------------------------------------ */

static void free_redis(struct redis_l2 *r)
{
	free_conns(r->idle);
	lm_keymap_free(r->km);
	free(r->ns);
	free(r->prefix);
	free(r->m);
	free(r->by_name);
	free(r->host);
	free(r->unix_path);
	free(r->password);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void r_close(struct lm_l2 *l)
{
	struct redis_l2 *r = as_redis(l);
	pthread_mutex_lock(&registry_lock);
	for (struct redis_l2 **p = &registry; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	if (r->thread_on && r->pid == getpid()) {
		__atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
		uint64_t one = 1;
		if (write(r->wake_fd, &one, sizeof one) == sizeof one)
			pthread_join(r->thread, NULL);
	}
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	free_redis(r);
}

static const struct lm_l2_ops redis_ops = {
    .get = r_get,
    .set = r_set,
    .drop_key = r_drop_key,
    .drop_method = r_drop_method,
    .drop_all = r_drop_all,
    .close = r_close,
};

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

struct lm_l2 *lm_l2_redis_open(const struct lm_l2_params *p, char *why, size_t whylen)
{
	const struct lm_tier_settings *b = &p->settings;
	if (lm_tier_settings_check(b, why, whylen) != 0)
		return NULL;
	if (!b->unix_path && (!b->servers || b->nservers < 1 || !b->servers[0].host)) {
		snprintf(why, whylen, "no Redis host");
		return NULL;
	}
	struct redis_l2 *r = calloc(1, sizeof *r);
	if (!r) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	r->base.ops = &redis_ops;
	r->base.p = *p;
	r->wake_fd = r->inval_fd = -1;
	r->pid = getpid();
	bool oom = false;
	r->ns = dup_or_null(p->namespace_, &oom);
	if (asprintf(&r->prefix, "%s:", p->namespace_) < 0) {
		r->prefix = NULL;
		oom = true;
	}
	r->unix_path = dup_or_null(b->unix_path, &oom);
	if (!b->unix_path) {
		r->host = dup_or_null(b->servers[0].host, &oom);
		r->port = b->servers[0].port;
	}
	r->password = dup_or_null(b->password, &oom);
	r->db = b->db;
	r->timeout_ms = b->timeout_ms > 0 ? b->timeout_ms : 50;
	r->tv.tv_sec = r->timeout_ms / 1000;
	r->tv.tv_usec = (r->timeout_ms % 1000) * 1000;
	r->nm = p->nmethods;
	r->m = calloc(r->nm ? r->nm : 1, sizeof *r->m);
	r->by_name = calloc(r->nm ? r->nm : 1, sizeof *r->by_name);
	uint64_t cap = b->max_entries > KEYMAP_MIN ? b->max_entries : KEYMAP_MIN;
	r->km = lm_keymap_new(cap, b->max_memory / 4, p->invalidate, p->arg);
	if (oom || !r->m || !r->by_name || !r->km) {
		free_redis(r);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	for (uint32_t i = 0; i < r->nm; i++) {
		r->m[i].name = p->methods[i].name;
		r->m[i].nlen = strlen(p->methods[i].name);
		r->m[i].fingerprint = p->methods[i].fingerprint;
		r->by_name[i] = i;
	}
	pthread_mutex_lock(&registry_lock);
	sort_ctx = r;
	qsort(r->by_name, r->nm, sizeof *r->by_name, by_name_cmp);
	r->next = registry;
	registry = r;
	pthread_mutex_unlock(&registry_lock);
	pthread_once(&atfork_once, register_atfork);
	return &r->base;
}
