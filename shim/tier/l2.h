/* The shared tier behind the local store (spec sections 6 and 9): Redis
 * and memcached, each a file behind this interface (l2_redis.c,
 * l2_memcached.c). The local store stays L1; the dispatcher asks L2 on an
 * L1 miss and writes a miss's result to both. Every call has a deadline; a
 * backend that is down or slow answers LM_L2_DOWN at once (the call then
 * runs against L1 and the function, counted as bypassed) and is retried
 * with backoff. */
#ifndef LM_L2_H
#define LM_L2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "shim/base/buf.h"

struct lm_l2;

struct lm_l2_method {
	const char *name;
	uint64_t fingerprint; /* lm_plan_fingerprint: a value of another signature is a miss */
	bool shared;          /* false: ptr methods stay local (never sent) */
};

/* Another process changed what we may hold in L1: drop it. KEY NULL: every
 * entry of METHOD; METHOD == LM_L2_ALL: everything (the invalidation
 * channel was lost, or a drop-all). Called from the backend's own thread. */
#define LM_L2_ALL UINT32_MAX
typedef void (*lm_l2_invalidate_fn)(void *arg, uint32_t method, const void *key, uint32_t klen);

/* What a backend is told of the config: its own settings, versioned, so
 * that a plugin built against another layout refuses them instead of
 * misreading them; never the config module's structures. */
#define LM_TIER_SETTINGS_VERSION 1
enum lm_tier_kind { LM_TIER_REDIS = 1, LM_TIER_MEMCACHED = 2 };
struct lm_tier_server {
	const char *host;
	int port; /* filled: never 0 */
};
struct lm_tier_settings {
	uint32_t version; /* LM_TIER_SETTINGS_VERSION */
	uint32_t size;    /* sizeof(struct lm_tier_settings) */
	enum lm_tier_kind kind;
	const char *url;       /* as written, for messages */
	const char *password;  /* redis; NULL: none */
	const char *unix_path; /* redis unix:PATH; NULL: TCP */
	int db;                /* redis /DB */
	const struct lm_tier_server *servers;
	size_t nservers;
	int64_t timeout_ms; /* each call's deadline */
	int64_t l1_ttl_ms;  /* how long L1 may keep what the tier answered */
	uint64_t max_entries, max_memory;
};
/* 0, or -1 with a reason when S is not the layout this code was built
 * for. Inline: the shim and each plugin check with their own copy. */
static inline int lm_tier_settings_check(const struct lm_tier_settings *s, char *why, size_t whylen)
{
	if (s->version == LM_TIER_SETTINGS_VERSION && s->size == sizeof *s)
		return 0;
	snprintf(why, whylen, "settings version %u (%u bytes), this plugin reads version %d (%zu)",
	         s->version, s->size, LM_TIER_SETTINGS_VERSION, sizeof *s);
	return -1;
}

struct lm_l2_params {
	struct lm_tier_settings settings;
	const char *namespace_;             /* resolved: [global] namespace or the program's name */
	const struct lm_l2_method *methods; /* kept: must outlive the lm_l2 */
	uint32_t nmethods;
	lm_l2_invalidate_fn invalidate;
	void *arg;
	/* Optional: run first on the backend's own thread (the shim sets its
	 * re-entrancy guard there, so that libc calls the backend makes never
	 * reach a hook). */
	void (*thread_init)(void);
	/* Optional: told once when the backend (or one memcached SERVER)
	 * stops answering, with WHY, and once when it answers again (WHY
	 * NULL). Called from whichever thread saw it. */
	void (*report)(const char *server, const char *why);
};

enum lm_l2_result { LM_L2_HIT, LM_L2_MISS, LM_L2_DOWN };

/* A TTL of lm_l2_set that never expires (the config's `never`). */
#define LM_L2_TTL_NEVER INT64_MAX

/* The stack a miss that asks the shared tier needs below the dispatcher:
 * measured 18.5 KiB with Redis (hiredis reads replies into a 16 KiB buffer
 * on the stack); with memcached 6 KiB, 10.5 KiB while its server refuses
 * connections; the rest is margin.
 * A signal handler's miss on an alternate stack with less left stays local
 * (lm_stack_short). */
#define LM_L2_STACK_NEED (24 * 1024)

/* NULL with a reason when the backend kind is local or cannot be set up
 * at all (a backend that is merely down is not an error: it is retried). */
struct lm_l2 *lm_l2_open(const struct lm_l2_params *p, char *why, size_t whylen);

/* On LM_L2_HIT the value blob (checked: format, fingerprint, full key) is
 * appended to OUT. Safe from any thread. */
enum lm_l2_result lm_l2_get(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen,
                            struct lm_buf *out);
/* As lm_l2_get; on LM_L2_HIT also sets *L1_TTL_MS to how long the L1 copy
 * may live: the global l1_ttl, or less when the shared entry expires sooner
 * (guarantee 3 counts from the original store, not from this read). */
enum lm_l2_result lm_l2_get_ttl(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen,
                                struct lm_buf *out, int64_t *l1_ttl_ms);
/* LM_L2_HIT: stored; LM_L2_MISS: not sent (local-only method, TTL <= 0)
 * or refused; LM_L2_DOWN: the backend is down or slow. */
enum lm_l2_result lm_l2_set(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen,
                            const void *val, size_t vlen, int64_t ttl_ms);
void lm_l2_drop_key(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen);
void lm_l2_drop_method(struct lm_l2 *l, uint32_t method);
void lm_l2_drop_all(struct lm_l2 *l);
/* At exit: stop the backend's thread, close connections. */
void lm_l2_close(struct lm_l2 *l);

#endif
