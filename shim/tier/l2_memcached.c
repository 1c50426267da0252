/* The memcached shared tier (spec section 9) on libmemcached, text protocol,
 * keys spread over the servers by consistent hashing (ketama), so every
 * process with the same server list finds a key on the same server.
 *
 * memcached cannot push invalidations: there is no invalidation thread and
 * no key map. An L1 copy lives at most l1_ttl; write functions delete the
 * exact key (its name read with fresh generations), and method-wide drops
 * bump a generation that is part of every key name, as with Redis. The
 * generations are cached at most l1_ttl, and the L1 lifetime a hit grants
 * ends when that cached read does, so a drop elsewhere is seen within
 * l1_ttl. All generation keys share one server (the global one's), so one
 * request reads both. A missing generation (never set, or evicted) starts
 * at a random value, never at a value an older key name may carry.
 *
 * Handles come from a small locked pool (a memcached_st is not
 * thread-safe). Every request has the redis_timeout deadline (connect,
 * poll, send and receive timeouts, non-blocking sockets); a failure puts
 * that server in backoff, during which calls needing it answer LM_L2_DOWN
 * without touching the network, and retires every pooled handle, whose
 * connections may be as dead. Servers are never ejected: a key maps to
 * the same server in every process, so a drop always reaches the copy
 * others read. */
#include <errno.h>
#include <inttypes.h>
#include <libmemcached/memcached.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "l2_internal.h"
#include "shim/base/clock.h"

#define POOL_IDLE_MAX 8
#define MC_KEY_MAX    250
#define MC_REL_MAX    (30 * 24 * 3600) /* beyond: memcached reads an absolute time */
/* memcached's default item size limit (1 MiB) counts its item header and
 * the key too: leave room for both. */
#define MC_ITEM_MAX ((1u << 20) - 512)
/* Each value: its expiry (unix ms, little endian; 0 none), then the L2
 * value with its header. memcached cannot tell how long an item has left
 * and counts in whole seconds; this gives both to the millisecond. */
#define ENV_LEN 8

struct mmethod {
	const char *name;
	uint64_t fingerprint;
	struct lm_buf gen_key; /* the memcached key of NS:#gen:METHOD */
	/* cached generations, valid while have, seq == stale_seq, younger than l1_ttl */
	uint64_t ggen, mgen, seq;
	int64_t at_ms;
	bool have;
};

struct handle {
	memcached_st *h;
	uint64_t epoch;
	struct handle *next;
};

struct mc_l2 {
	struct lm_l2 base;
	char *ns;
	struct mmethod *m;
	uint32_t nm;
	char **host;
	in_port_t *port;
	uint32_t nhosts;
	struct lm_backoff *bo; /* one per server, in the configured order */
	struct lm_buf gen_all; /* the memcached key of NS:#gen; also the generations' group key */
	int64_t timeout_ms, l1_ttl_ms;

	pthread_mutex_t lock; /* the pool and the cached generations */
	struct handle *idle;
	unsigned nidle;
	uint64_t epoch;     /* atomic: bumped on a failure, older handles are retired */
	uint64_t stale_seq; /* atomic: bumped when cached generations may be wrong */
	bool lost_drops;    /* atomic: a drop did not reach memcached */
	pid_t pid;
	struct mc_l2 *next; /* fork registry */
};

static struct mc_l2 *as_mc(struct lm_l2 *l)
{
	return (struct mc_l2 *)l;
}

static const char *cs(const struct lm_buf *b)
{
	return (const char *)b->p;
}

/* ---- Keys, expiry, envelope ---------------------------------------------- */

int lm_l2_mc_key(struct lm_buf *out, const char *name, size_t len)
{
	bool ok = len > 0 && len <= MC_KEY_MAX;
	for (size_t i = 0; ok && i < len; i++)
		ok = (unsigned char)name[i] > ' ' && (unsigned char)name[i] != 0x7f;
	if (ok)
		return lm_buf_append(out, name, len);
	/* Too long, or bytes the text protocol cannot carry. `#` starts no
	 * namespace-led name of the same shape; the value header keeps the
	 * full function key, so even a collision could not serve a wrong one. */
	struct lm_l2_hash h = lm_l2_key_hash(name, (uint32_t)len);
	char s[48];
	int n = snprintf(s, sizeof s, "#h:%016" PRIx64 "%016" PRIx64, h.hi, h.lo);
	return lm_buf_append(out, s, (size_t)n);
}

time_t lm_l2_mc_exptime(int64_t ttl_ms, time_t now)
{
	if (ttl_ms == LM_L2_TTL_NEVER)
		return 0;
	int64_t s = ttl_ms / 1000 + (ttl_ms % 1000 != 0);
	if (s < 1)
		s = 1;
	if (s <= MC_REL_MAX)
		return (time_t)s;
	/* memcached keeps times in 32 bits: later than that is never (the
	 * envelope's expiry still holds). */
	if (s > (int64_t)INT32_MAX - (int64_t)now)
		return 0;
	return now + (time_t)s;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int envelope(struct lm_buf *out, int64_t ttl_ms, uint64_t fingerprint, const void *key,
                    uint32_t klen, const void *val, size_t vlen)
{
	unsigned char e[ENV_LEN];
	uint64_t exp = ttl_ms == LM_L2_TTL_NEVER || ttl_ms > INT64_MAX / 2
	                   ? 0
	                   : (uint64_t)(wall_ms() + ttl_ms);
	for (int i = 0; i < ENV_LEN; i++)
		e[i] = (unsigned char)(exp >> (8 * i));
	if (lm_buf_append(out, e, sizeof e) != 0)
		return -1;
	return lm_l2_value_encode(out, fingerprint, key, klen, val, vlen);
}

/* The value blob inside an item, and how long it has left (-1: no
 * expiry); false when it is not ours, damaged or expired. */
static bool unwrap(const char *item, size_t len, uint64_t fingerprint, const void *key,
                   uint32_t klen, const void **val, size_t *vlen, int64_t *left)
{
	if (!item || len < ENV_LEN)
		return false;
	uint64_t exp = 0;
	for (int i = 0; i < ENV_LEN; i++)
		exp |= (uint64_t)(unsigned char)item[i] << (8 * i);
	*left = -1;
	if (exp) {
		int64_t now = wall_ms();
		if (exp > INT64_MAX || (int64_t)exp <= now)
			return false;
		*left = (int64_t)exp - now;
	}
	return lm_l2_value_check(item + ENV_LEN, len - ENV_LEN, fingerprint, key, klen, val, vlen);
}

/* ---- Handles ------------------------------------------------------------- */

static memcached_st *handle_new(const struct mc_l2 *c)
{
	memcached_st *h = memcached_create(NULL);
	if (!h)
		return NULL;
	uint64_t ms = (uint64_t)c->timeout_ms;
	bool ok =
	    memcached_behavior_set(h, MEMCACHED_BEHAVIOR_NO_BLOCK, 1) == MEMCACHED_SUCCESS &&
	    memcached_behavior_set(h, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1) == MEMCACHED_SUCCESS &&
	    memcached_behavior_set(h, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, ms) ==
	        MEMCACHED_SUCCESS &&
	    memcached_behavior_set(h, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, ms) == MEMCACHED_SUCCESS &&
	    memcached_behavior_set(h, MEMCACHED_BEHAVIOR_SND_TIMEOUT, ms * 1000) ==
	        MEMCACHED_SUCCESS &&
	    memcached_behavior_set(h, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, ms * 1000) ==
	        MEMCACHED_SUCCESS &&
	    memcached_behavior_set(h, MEMCACHED_BEHAVIOR_KETAMA, 1) == MEMCACHED_SUCCESS;
	for (uint32_t i = 0; ok && i < c->nhosts; i++)
		ok = memcached_server_add(h, c->host[i], c->port[i]) == MEMCACHED_SUCCESS;
	if (!ok) {
		memcached_free(h);
		return NULL;
	}
	return h;
}

/* memcached_free sends `quit` on every open connection: only the process
 * that opened them may call it. */
static void handles_free(struct mc_l2 *c, struct handle *hd)
{
	while (hd) {
		struct handle *next = hd->next;
		if (c->pid == getpid())
			memcached_free(hd->h);
		free(hd);
		hd = next;
	}
}

/* A fork child: the parent's connections are not ours, and libmemcached
 * has no way to close one without talking on it. The idle handles are
 * forgotten (their sockets are close-on-exec); handles other threads held
 * belong to threads the child does not have. */
static void child_reset(struct mc_l2 *c)
{
	struct handle *hd = c->idle;
	while (hd) {
		struct handle *next = hd->next;
		free(hd);
		hd = next;
	}
	c->idle = NULL;
	c->nidle = 0;
	__atomic_add_fetch(&c->epoch, 1, __ATOMIC_ACQ_REL);
	c->pid = getpid();
}

/* One call: a handle to itself, and the server it found down, if any. */
struct call {
	struct mc_l2 *c;
	struct handle *hd;
	int64_t failed; /* server index, or -1 */
	memcached_return_t failed_rc;
};

static bool begin(struct mc_l2 *c, struct call *k)
{
	k->c = c;
	k->failed = -1;
	k->hd = NULL;
	if (c->pid != getpid()) {
		pthread_mutex_lock(&c->lock);
		if (c->pid != getpid())
			child_reset(c);
		pthread_mutex_unlock(&c->lock);
	}
	uint64_t epoch = __atomic_load_n(&c->epoch, __ATOMIC_ACQUIRE);
	struct handle *stale = NULL;
	pthread_mutex_lock(&c->lock);
	while (c->idle && !k->hd) {
		struct handle *hd = c->idle;
		c->idle = hd->next;
		c->nidle--;
		if (hd->epoch == epoch) {
			k->hd = hd;
		} else {
			hd->next = stale;
			stale = hd;
		}
	}
	pthread_mutex_unlock(&c->lock);
	handles_free(c, stale);
	if (!k->hd) {
		k->hd = calloc(1, sizeof *k->hd);
		if (!k->hd)
			return false;
		k->hd->h = handle_new(c);
		if (!k->hd->h) {
			free(k->hd);
			k->hd = NULL;
			return false;
		}
		k->hd->epoch = epoch;
	}
	k->hd->next = NULL;
	return true;
}

/* Server S going down (WHY) or, WHY NULL, answering again. */
static void report(const struct mc_l2 *c, int64_t s, const char *why)
{
	char server[300];

	if (!c->base.p.report)
		return;
	snprintf(server, sizeof server, "memcached server %s:%u", c->host[s], (unsigned)c->port[s]);
	c->base.p.report(server, why);
}

static void end(struct call *k)
{
	struct mc_l2 *c = k->c;
	struct handle *hd = k->hd;
	if (k->failed >= 0) {
		/* A reply that timed out may still arrive: never reuse the handle. */
		__atomic_add_fetch(&c->epoch, 1, __ATOMIC_ACQ_REL);
		if (lm_backoff_fail(&c->bo[k->failed], lm_clock_ms()))
			report(c, k->failed, memcached_strerror(hd ? hd->h : NULL, k->failed_rc));
	} else {
		pthread_mutex_lock(&c->lock);
		if (hd->epoch == __atomic_load_n(&c->epoch, __ATOMIC_ACQUIRE) &&
		    c->nidle < POOL_IDLE_MAX && c->pid == getpid()) {
			hd->next = c->idle;
			c->idle = hd;
			c->nidle++;
			hd = NULL;
		}
		pthread_mutex_unlock(&c->lock);
	}
	handles_free(c, hd);
}

/* Outcome of one exchange. */
enum xres {
	XR_OK,      /* an answer: stored, found, not found */
	XR_REFUSED, /* not sent, or the server declined it (too large, out of memory) */
	XR_SKIPPED, /* the server is in backoff: not asked */
	XR_FAILED   /* no answer in time: the server goes into backoff */
};

/* The server KEY lives on, or -1 when in backoff. */
static int64_t server_for(struct call *k, const struct lm_buf *key)
{
	uint32_t s = memcached_generate_hash(k->hd->h, cs(key), key->len);
	if (s >= k->c->nhosts || !lm_backoff_admit(&k->c->bo[s], lm_clock_ms()))
		return -1;
	return s;
}

static enum xres outcome(struct call *k, int64_t server, memcached_return_t rc)
{
	switch (rc) {
	case MEMCACHED_SUCCESS:
	case MEMCACHED_STORED:
	case MEMCACHED_DELETED:
	case MEMCACHED_END:
	case MEMCACHED_NOTFOUND:
	case MEMCACHED_NOTSTORED:
	case MEMCACHED_DATA_EXISTS:
		if (lm_backoff_ok(&k->c->bo[server]))
			report(k->c, server, NULL);
		return XR_OK;
	case MEMCACHED_E2BIG:
	case MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE:
	case MEMCACHED_SERVER_ERROR:
		if (lm_backoff_ok(&k->c->bo[server]))
			report(k->c, server, NULL);
		return XR_REFUSED;
	case MEMCACHED_MEMORY_ALLOCATION_FAILURE:
	case MEMCACHED_BAD_KEY_PROVIDED:
		return XR_REFUSED;
	default:
		k->failed = server;
		k->failed_rc = rc;
		return XR_FAILED;
	}
}

/* ---- Generations --------------------------------------------------------- */

static void bump_stale(struct mc_l2 *c)
{
	__atomic_add_fetch(&c->stale_seq, 1, __ATOMIC_ACQ_REL);
}

/* Decimal, maybe followed by the spaces memcached pads an incr with. */
static bool parse_gen(const char *s, size_t len, uint64_t *v)
{
	size_t i = 0;
	*v = 0;
	while (i < len && i < 20 && s[i] >= '0' && s[i] <= '9')
		*v = *v * 10 + (uint64_t)(s[i++] - '0');
	if (i == 0)
		return false;
	while (i < len && s[i] == ' ')
		i++;
	return i == len;
}

/* A fresh generation: random, far from wrapping. */
static uint64_t random_gen(void)
{
	static uint64_t counter;
	uint64_t v;
	if (getrandom(&v, sizeof v, GRND_NONBLOCK) != sizeof v) {
		uint64_t seed[3] = {(uint64_t)wall_ms(), (uint64_t)getpid(),
		                    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED)};
		v = XXH3_64bits(seed, sizeof seed);
	}
	return (v >> 2) + 1;
}

/* Add a missing generation KEY at a random value, or read the one another
 * process added first. */
static enum xres gen_create(struct call *k, int64_t server, const struct lm_buf *key, uint64_t *gen)
{
	memcached_st *h = k->hd->h;
	const struct lm_buf *g = &k->c->gen_all;
	char s[24];
	uint64_t v = random_gen();
	int n = snprintf(s, sizeof s, "%" PRIu64, v);
	memcached_return_t rc =
	    memcached_add_by_key(h, cs(g), g->len, cs(key), key->len, s, (size_t)n, 0, 0);
	enum xres x = outcome(k, server, rc);
	if (x != XR_OK)
		return x;
	if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_STORED) {
		*gen = v;
		return XR_OK;
	}
	size_t len;
	uint32_t flags;
	char *val = memcached_get_by_key(h, cs(g), g->len, cs(key), key->len, &len, &flags, &rc);
	x = outcome(k, server, rc);
	if (x == XR_OK && (rc != MEMCACHED_SUCCESS || !parse_gen(val, len, gen)))
		x = XR_REFUSED; /* evicted again, or not a number: not ours to fix */
	free(val);
	return x;
}

/* Read the global and METHOD's generations from their server. */
static enum xres gen_read(struct call *k, uint32_t method, uint64_t *ggen, uint64_t *mgen)
{
	struct mc_l2 *c = k->c;
	memcached_st *h = k->hd->h;
	const struct lm_buf *keys[2] = {&c->gen_all, &c->m[method].gen_key};
	uint64_t *gens[2] = {ggen, mgen};
	bool have[2] = {false, false};
	int64_t server = server_for(k, &c->gen_all);
	if (server < 0)
		return XR_SKIPPED;
	const char *kp[2] = {cs(keys[0]), cs(keys[1])};
	size_t kl[2] = {keys[0]->len, keys[1]->len};
	memcached_return_t rc = memcached_mget_by_key(h, kp[0], kl[0], kp, kl, 2);
	enum xres x = outcome(k, server, rc);
	if (x != XR_OK)
		return x;
	memcached_result_st res;
	if (!memcached_result_create(h, &res))
		return XR_REFUSED;
	while (memcached_fetch_result(h, &res, &rc)) {
		const char *key = memcached_result_key_value(&res);
		size_t klen = memcached_result_key_length(&res);
		for (int i = 0; i < 2; i++)
			if (klen == kl[i] && memcmp(key, kp[i], klen) == 0)
				have[i] = parse_gen(memcached_result_value(&res),
				                    memcached_result_length(&res), gens[i]);
	}
	memcached_result_free(&res);
	x = outcome(k, server, rc);
	for (int i = 0; i < 2 && x == XR_OK; i++)
		if (!have[i])
			x = gen_create(k, server, keys[i], gens[i]);
	return x;
}

/* The generations METHOD's key names use now, and how old that knowledge
 * is: cached up to l1_ttl, unless FRESH. */
static enum xres generations(struct call *k, uint32_t method, bool fresh, uint64_t *ggen,
                             uint64_t *mgen, int64_t *age_ms)
{
	struct mc_l2 *c = k->c;
	struct mmethod *m = &c->m[method];
	uint64_t seq = __atomic_load_n(&c->stale_seq, __ATOMIC_ACQUIRE);
	int64_t now = lm_clock_ms();
	pthread_mutex_lock(&c->lock);
	bool cached = !fresh && m->have && m->seq == seq && now - m->at_ms < c->l1_ttl_ms;
	*ggen = m->ggen;
	*mgen = m->mgen;
	*age_ms = now - m->at_ms;
	pthread_mutex_unlock(&c->lock);
	if (cached)
		return XR_OK;
	enum xres x = gen_read(k, method, ggen, mgen);
	if (x == XR_OK) {
		pthread_mutex_lock(&c->lock);
		m->ggen = *ggen;
		m->mgen = *mgen;
		m->seq = seq;
		m->at_ms = now;
		m->have = true;
		pthread_mutex_unlock(&c->lock);
		*age_ms = 0;
	}
	return x;
}

/* Bump the generation KEY (the global one, or a method's). */
static enum xres gen_bump(struct call *k, const struct lm_buf *key)
{
	const struct lm_buf *g = &k->c->gen_all;
	int64_t server = server_for(k, g);
	if (server < 0)
		return XR_SKIPPED;
	uint64_t v;
	memcached_return_t rc =
	    memcached_increment_by_key(k->hd->h, cs(g), g->len, cs(key), key->len, 1, &v);
	enum xres x = outcome(k, server, rc);
	if (x == XR_OK && rc == MEMCACHED_NOTFOUND)
		x = gen_create(k, server, key, &v); /* a new random value is a change too */
	return x;
}

/* A drop that never reached memcached: before anything else once it
 * answers again, drop everything (other processes must not keep reading
 * what that drop would have removed). */
static enum xres replay_lost_drops(struct call *k)
{
	struct mc_l2 *c = k->c;
	if (!__atomic_exchange_n(&c->lost_drops, false, __ATOMIC_ACQ_REL))
		return XR_OK;
	enum xres x = gen_bump(k, &c->gen_all);
	if (x == XR_OK)
		bump_stale(c);
	else
		__atomic_store_n(&c->lost_drops, true, __ATOMIC_RELEASE);
	return x;
}

/* The memcached key of KEY of METHOD at the current generations. */
static enum xres data_key(struct call *k, uint32_t method, const void *key, uint32_t klen,
                          bool fresh, struct lm_buf *mkey, int64_t *age_ms)
{
	struct mc_l2 *c = k->c;
	uint64_t ggen, mgen;
	enum xres x = generations(k, method, fresh, &ggen, &mgen, age_ms);
	if (x != XR_OK)
		return x;
	struct lm_buf name = {0};
	if (lm_l2_data_name(&name, c->ns, c->m[method].name, ggen, mgen,
	                    lm_l2_key_hash(key, klen)) != 0 ||
	    lm_l2_mc_key(mkey, cs(&name), name.len) != 0)
		x = XR_REFUSED;
	lm_buf_free(&name);
	return x;
}

/* Where KEY of METHOD lives: its memcached key and the server that holds
 * it; XR_SKIPPED when that server is in backoff. */
static enum xres locate(struct call *k, uint32_t method, const void *key, uint32_t klen, bool fresh,
                        struct lm_buf *mkey, int64_t *age_ms, int64_t *server)
{
	enum xres x = data_key(k, method, key, klen, fresh, mkey, age_ms);
	if (x != XR_OK)
		return x;
	*server = server_for(k, mkey);
	return *server < 0 ? XR_SKIPPED : XR_OK;
}

static enum lm_l2_result result(enum xres x, bool yes)
{
	switch (x) {
	case XR_OK:
		return yes ? LM_L2_HIT : LM_L2_MISS;
	case XR_REFUSED:
		return LM_L2_MISS;
	default:
		return LM_L2_DOWN;
	}
}

/* ---- Calls ------------------------------------------------------------------ */

static enum lm_l2_result m_get(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen,
                               struct lm_buf *out, int64_t *left)
{
	struct mc_l2 *c = as_mc(l);
	struct call k;
	if (!begin(c, &k))
		return LM_L2_DOWN;
	struct lm_buf mkey = {0};
	int64_t age = 0;
	bool hit = false;
	int64_t server = -1;
	enum xres x = replay_lost_drops(&k);
	if (x == XR_OK)
		x = locate(&k, method, key, klen, false, &mkey, &age, &server);
	if (x == XR_OK) {
		size_t len;
		uint32_t flags;
		memcached_return_t rc;
		char *item = memcached_get(k.hd->h, cs(&mkey), mkey.len, &len, &flags, &rc);
		x = outcome(&k, server, rc);
		const void *val;
		size_t vlen;
		int64_t ttl;
		if (x == XR_OK && rc == MEMCACHED_SUCCESS &&
		    unwrap(item, len, c->m[method].fingerprint, key, klen, &val, &vlen, &ttl) &&
		    lm_buf_append(out, val, vlen) == 0) {
			hit = true;
			/* The L1 copy ends when our knowledge of the generations
			 * would (no push tells us of a drop). */
			int64_t gens_left = c->l1_ttl_ms - age;
			*left = ttl >= 0 && ttl < gens_left ? ttl : gens_left;
		}
		free(item);
	}
	end(&k);
	lm_buf_free(&mkey);
	return result(x, hit);
}

static enum lm_l2_result m_set(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen,
                               const void *val, size_t vlen, int64_t ttl_ms)
{
	struct mc_l2 *c = as_mc(l);
	struct lm_buf item = {0};
	if (envelope(&item, ttl_ms, c->m[method].fingerprint, key, klen, val, vlen) != 0 ||
	    item.len > MC_ITEM_MAX) {
		/* Above memcached's item size limit: stays local. */
		lm_buf_free(&item);
		return LM_L2_MISS;
	}
	struct call k;
	if (!begin(c, &k)) {
		lm_buf_free(&item);
		return LM_L2_DOWN;
	}
	struct lm_buf mkey = {0};
	int64_t age;
	bool stored = false;
	int64_t server = -1;
	enum xres x = replay_lost_drops(&k);
	if (x == XR_OK)
		x = locate(&k, method, key, klen, false, &mkey, &age, &server);
	if (x == XR_OK) {
		memcached_return_t rc =
		    memcached_set(k.hd->h, cs(&mkey), mkey.len, cs(&item), item.len,
		                  lm_l2_mc_exptime(ttl_ms, time(NULL)), 0);
		x = outcome(&k, server, rc);
		stored = rc == MEMCACHED_SUCCESS || rc == MEMCACHED_STORED;
	}
	end(&k);
	lm_buf_free(&mkey);
	lm_buf_free(&item);
	return result(x, stored);
}

/* A drop: KEY of METHOD, every entry of METHOD (KEY NULL) or everything
 * (METHOD LM_L2_ALL). One that fails is replayed as a drop of everything. */
static void drop(struct mc_l2 *c, uint32_t method, const void *key, uint32_t klen)
{
	struct call k;
	enum xres x = XR_FAILED;
	if (begin(c, &k)) {
		x = replay_lost_drops(&k);
		if (x == XR_OK && key) {
			/* Fresh generations: a key name from a stale cache
			 * would delete an entry no one reads any more. */
			struct lm_buf mkey = {0};
			int64_t age, server = -1;
			x = locate(&k, method, key, klen, true, &mkey, &age, &server);
			if (x == XR_OK)
				x = outcome(&k, server,
				            memcached_delete(k.hd->h, cs(&mkey), mkey.len, 0));
			lm_buf_free(&mkey);
		} else if (x == XR_OK) {
			x = gen_bump(&k, method == LM_L2_ALL ? &c->gen_all : &c->m[method].gen_key);
			if (x == XR_OK)
				bump_stale(c);
		}
		end(&k);
	}
	if (x != XR_OK)
		__atomic_store_n(&c->lost_drops, true, __ATOMIC_RELEASE);
}

static void m_drop_key(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen)
{
	drop(as_mc(l), method, key ? key : "", key ? klen : 0);
}

static void m_drop_method(struct lm_l2 *l, uint32_t method)
{
	drop(as_mc(l), method, NULL, 0);
}

static void m_drop_all(struct lm_l2 *l)
{
	drop(as_mc(l), LM_L2_ALL, NULL, 0);
}

/* ---- fork ---------------------------------------------------------------- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mc_l2 *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
	for (struct mc_l2 *c = registry; c; c = c->next)
		pthread_mutex_lock(&c->lock);
}

static void fork_parent(void)
{
	for (struct mc_l2 *c = registry; c; c = c->next)
		pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&registry_lock);
}

static void fork_child(void)
{
	for (struct mc_l2 *c = registry; c; c = c->next) {
		child_reset(c);
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&registry_lock);
}

static void register_atfork(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ---- Open and close ------------------------------------------------------ */

static void free_mc(struct mc_l2 *c)
{
	handles_free(c, c->idle);
	for (uint32_t i = 0; c->m && i < c->nm; i++)
		lm_buf_free(&c->m[i].gen_key);
	for (uint32_t i = 0; c->host && i < c->nhosts; i++)
		free(c->host[i]);
	lm_buf_free(&c->gen_all);
	free(c->host);
	free(c->port);
	free(c->bo);
	free(c->m);
	free(c->ns);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void m_close(struct lm_l2 *l)
{
	struct mc_l2 *c = as_mc(l);
	pthread_mutex_lock(&registry_lock);
	for (struct mc_l2 **p = &registry; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	free_mc(c);
}

static const struct lm_l2_ops memcached_ops = {
    .get = m_get,
    .set = m_set,
    .drop_key = m_drop_key,
    .drop_method = m_drop_method,
    .drop_all = m_drop_all,
    .close = m_close,
};

/* The memcached key of generation NAME (METHOD NULL: the global one). */
static int gen_key(struct lm_buf *out, const char *ns, const char *method)
{
	struct lm_buf name = {0};
	int rc =
	    lm_l2_gen_name(&name, ns, method) == 0 && lm_l2_mc_key(out, cs(&name), name.len) == 0
	        ? 0
	        : -1;
	lm_buf_free(&name);
	return rc;
}

struct lm_l2 *lm_l2_memcached_open(const struct lm_l2_params *p, char *why, size_t whylen)
{
	const struct lm_tier_settings *b = &p->settings;
	if (lm_tier_settings_check(b, why, whylen) != 0)
		return NULL;
	if (!b->servers || b->nservers < 1 || b->nservers > UINT32_MAX) {
		snprintf(why, whylen, "no memcached host");
		return NULL;
	}
	for (size_t i = 0; i < b->nservers; i++) {
		if (!b->servers[i].host || !*b->servers[i].host || b->servers[i].port <= 0 ||
		    b->servers[i].port > 65535) {
			snprintf(why, whylen, "bad memcached host");
			return NULL;
		}
	}
	struct mc_l2 *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->base.ops = &memcached_ops;
	c->base.p = *p;
	c->pid = getpid();
	c->timeout_ms = b->timeout_ms > 0 ? b->timeout_ms : 50;
	c->l1_ttl_ms = b->l1_ttl_ms > 0 ? b->l1_ttl_ms : 0;
	c->nhosts = (uint32_t)b->nservers;
	c->nm = p->nmethods;
	c->ns = strdup(p->namespace_);
	c->host = calloc(c->nhosts, sizeof *c->host);
	c->port = calloc(c->nhosts, sizeof *c->port);
	c->bo = calloc(c->nhosts, sizeof *c->bo);
	c->m = calloc(c->nm ? c->nm : 1, sizeof *c->m);
	bool oom = !c->ns || !c->host || !c->port || !c->bo || !c->m ||
	           gen_key(&c->gen_all, p->namespace_, NULL) != 0;
	for (uint32_t i = 0; !oom && i < c->nhosts; i++) {
		c->host[i] = strdup(b->servers[i].host);
		c->port[i] = (in_port_t)b->servers[i].port;
		oom = !c->host[i];
	}
	for (uint32_t i = 0; !oom && i < c->nm; i++) {
		c->m[i].name = p->methods[i].name;
		c->m[i].fingerprint = p->methods[i].fingerprint;
		oom = gen_key(&c->m[i].gen_key, p->namespace_, p->methods[i].name) != 0;
	}
	memcached_st *probe = oom ? NULL : handle_new(c);
	if (!probe) {
		snprintf(why, whylen, oom ? "out of memory" : "cannot set up libmemcached");
		free_mc(c);
		return NULL;
	}
	memcached_free(probe); /* never connected: sends nothing */
	pthread_mutex_lock(&registry_lock);
	c->next = registry;
	registry = c;
	pthread_mutex_unlock(&registry_lock);
	pthread_once(&atfork_once, register_atfork);
	return &c->base;
}
