/* The host-wide tier (spec section 11): one cache in a shared mapping for
 * all processes of one user on one host that use the same namespace. It
 * sits between a process's L1 (the local store) and Redis/memcached or the
 * function. A hit is a copy of a slot under its sequence counter: no lock,
 * no system call, no process ever waits on another. Layout in
 * host_layout.h; opening and its checks in host_map.c; the table in
 * host_table.c. */
#ifndef LM_HOST_H
#define LM_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shim/base/buf.h"

struct lm_host;

/* Where a method's entries and generations live in the mapping: entries
 * carry the name's hash and the signature's fingerprint, so programs with
 * other configs in the same namespace never take each other's values. */
struct lm_host_method {
	uint64_t mhash; /* of the method's name */
	uint64_t fp;    /* lm_plan_fingerprint */
	uint32_t mb;    /* generation bucket of the name */
};
void lm_host_method_init(struct lm_host_method *hm, const char *name, uint64_t fp);

/* What a lookup saw of the generations; a fill carries it so that a result
 * computed before a drop is never visible after it (guarantee 4). */
struct lm_host_ticket {
	uint64_t mgen, kgen;
};

/* The mapping's file for user UID and namespace NS in DIR (NULL: /dev/shm,
 * else $XDG_RUNTIME_DIR). -1 when it does not fit LEN. */
int lm_host_path(const char *dir, unsigned uid, const char *ns, char *out, size_t len);

/* Open or create the mapping of SIZE bytes (the creator's size wins).
 * Refused, with WHY, when it is owned by another user, open to group or
 * others, or not a regular file; a mapping of another format, truncated or
 * half made is replaced (said in NOTE) when it is ours. NULL + WHY: the
 * tier is off for this process. */
struct lm_host *lm_host_open(const char *dir, const char *ns, uint64_t size, char *why,
                             size_t whylen, char *note, size_t notelen);
/* The mapping of NS as it is, for `ldmemo ctl host`: never made nor
 * replaced; the same checks. PATH gets its file name. */
struct lm_host *lm_host_attach(const char *dir, const char *ns, char *path, size_t pathlen,
                               char *why, size_t whylen);
void lm_host_close(struct lm_host *h);

/* The counter copies of HM's entries kept outside the store are checked
 * against while the host tier is on: every drop of the method, by any
 * process of the host, moves it. */
const uint64_t *lm_host_l1gen(const struct lm_host *h, const struct lm_host_method *hm);
static inline uint64_t lm_host_l1gen_now(const struct lm_host *h, const struct lm_host_method *hm)
{
	return __atomic_load_n(lm_host_l1gen(h, hm), __ATOMIC_ACQUIRE);
}

/* 1 on a hit: the value is appended to OUT and *EXPIRES_MS set (lm_clock_ms
 * time base, INT64_MAX: never). 0 on a miss. T is filled either way, for
 * the fill that follows a miss. */
int lm_host_get(struct lm_host *h, const struct lm_host_method *hm, uint64_t khash, const void *key,
                uint32_t klen, struct lm_buf *out, int64_t *expires_ms, struct lm_host_ticket *t);
/* Store a result for TTL_MS (INT64_MAX: never) unless a drop ran since T
 * was taken, the value is larger than a slot holds (it stays per process),
 * or every slot it may go to is being written. 1 stored, 0 not. */
int lm_host_set(struct lm_host *h, const struct lm_host_method *hm, uint64_t khash, const void *key,
                uint32_t klen, const void *val, size_t vlen, int64_t ttl_ms,
                const struct lm_host_ticket *t);

/* Drops, for every process of the host. Each returns entries dropped (a
 * method-wide drop cannot count them: 0). */
size_t lm_host_drop_key(struct lm_host *h, const struct lm_host_method *hm, uint64_t khash,
                        const void *key, uint32_t klen);
void lm_host_drop_method(struct lm_host *h, const struct lm_host_method *hm);
void lm_host_drop_all(struct lm_host *h);

struct lm_host_stats {
	uint64_t size, slots, slot_bytes; /* the mapping */
	uint64_t entries;                 /* live, current entries now */
	uint64_t evictions, stores;       /* since it was made */
};
void lm_host_stats(const struct lm_host *h, struct lm_host_stats *out);

/* The largest key + value a slot holds inline. */
size_t lm_host_slot_capacity(void);

#endif
