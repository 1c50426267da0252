/* What the shared-tier backends have in common (l2.c) and how l2.c calls
 * them: the value header, Redis key names, backoff, the map from key names
 * back to key bytes (l2_keymap.c). Not part of the dispatcher's interface. */
#ifndef LM_L2_INTERNAL_H
#define LM_L2_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "l2.h"

struct lm_l2_ops {
	enum lm_l2_result (*get)(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen,
	                         struct lm_buf *out, int64_t *ttl_left_ms);
	enum lm_l2_result (*set)(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen,
	                         const void *val, size_t vlen, int64_t ttl_ms);
	void (*drop_key)(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen);
	void (*drop_method)(struct lm_l2 *l, uint32_t method);
	void (*drop_all)(struct lm_l2 *l);
	void (*close)(struct lm_l2 *l);
};

/* Every backend's state starts with this. */
struct lm_l2 {
	const struct lm_l2_ops *ops;
	struct lm_l2_params p; /* methods and namespace_ point at the caller's */
};

/* Each backend plugin exports its open function, and only that. */
#define LM_L2_EXPORT __attribute__((visibility("default")))
LM_L2_EXPORT struct lm_l2 *lm_l2_redis_open(const struct lm_l2_params *p, char *why, size_t whylen);
LM_L2_EXPORT struct lm_l2 *lm_l2_memcached_open(const struct lm_l2_params *p, char *why,
                                                size_t whylen);

/* memcached (l2_memcached.c): the key for a key NAME (NAME itself, or a
 * hash of it when longer than 250 bytes or not printable), and the
 * expiration to send for TTL_MS at unix time NOW (0: never; up to 30 days
 * relative seconds, beyond that an absolute time, as memcached reads it). */
int lm_l2_mc_key(struct lm_buf *out, const char *name, size_t len);
time_t lm_l2_mc_exptime(int64_t ttl_ms, time_t now);

/* ---- Value header ------------------------------------------------------- */

/* "LM2V", format version, 3 zero bytes, fingerprint (LE), key length (LE),
 * the key bytes, then the value blob. */
#define LM_L2_FORMAT  1
#define LM_L2_HDR_LEN 20

int lm_l2_value_encode(struct lm_buf *out, uint64_t fingerprint, const void *key, uint32_t klen,
                       const void *val, size_t vlen);
/* True when BLOB is a value of this fingerprint and exactly this key; then
 * *VAL and *VLEN locate the value blob inside it. Any bytes are safe. */
bool lm_l2_value_check(const void *blob, size_t len, uint64_t fingerprint, const void *key,
                       uint32_t klen, const void **val, size_t *vlen);

/* ---- Key names ---------------------------------------------------------- */

/* Data: NS:METHOD:GLOBALGEN.METHODGEN:HASH (HASH: XXH3-128 of the key
 * bytes, 32 hex digits). Generations: NS:#gen (all) and NS:#gen:METHOD;
 * `#` cannot start a C identifier, so no method name collides. */
struct lm_l2_hash {
	uint64_t hi, lo;
};
struct lm_l2_hash lm_l2_key_hash(const void *key, uint32_t klen);
int lm_l2_data_name(struct lm_buf *out, const char *ns, const char *method, uint64_t ggen,
                    uint64_t mgen, struct lm_l2_hash h);
/* METHOD NULL: the global generation. */
int lm_l2_gen_name(struct lm_buf *out, const char *ns, const char *method);

enum lm_l2_name_kind {
	LM_L2_NAME_OTHER,
	LM_L2_NAME_DATA,
	LM_L2_NAME_GEN_METHOD,
	LM_L2_NAME_GEN_ALL
};
struct lm_l2_name {
	const char *method; /* inside the parsed name, not terminated */
	size_t mlen;
	struct lm_l2_hash hash; /* LM_L2_NAME_DATA */
};
/* Classify a key name an invalidation message carried (untrusted). */
enum lm_l2_name_kind lm_l2_parse_name(const char *ns, const char *name, size_t len,
                                      struct lm_l2_name *out);

/* ---- Backoff ------------------------------------------------------------ */

#define LM_L2_BACKOFF_MIN_MS 100
#define LM_L2_BACKOFF_MAX_MS 5000

/* Zero-initialised: healthy. After a failure, calls are refused until the
 * period ends; then one caller may probe, the others still refused. */
struct lm_backoff {
	int64_t until_ms, step_ms; /* atomics */
};
bool lm_backoff_admit(struct lm_backoff *b, int64_t now_ms);
/* True for the failure that ended a healthy period (report it). */
bool lm_backoff_fail(struct lm_backoff *b, int64_t now_ms);
/* True for the success that ended a backoff (report it). */
bool lm_backoff_ok(struct lm_backoff *b);

/* ---- Key map ------------------------------------------------------------ */

/* Which keys this process may hold in L1 for each Redis key name hash, so
 * that an invalidation naming a Redis key drops exactly that L1 entry. An
 * entry pushed out for room is invalidated right away (the map must cover
 * every L1 entry of a shared method). Thread-safe. */
struct lm_keymap;
struct lm_keymap *lm_keymap_new(uint64_t max_entries, uint64_t max_bytes, lm_l2_invalidate_fn inv,
                                void *arg);
void lm_keymap_free(struct lm_keymap *km);
/* Remember KEY of METHOD; on OOM invalidates it instead (never a gap). */
void lm_keymap_note(struct lm_keymap *km, uint32_t method, struct lm_l2_hash h, const void *key,
                    uint32_t klen);
/* An invalidation for (METHOD, H): drop the L1 copy if we may hold one. */
void lm_keymap_invalidate(struct lm_keymap *km, uint32_t method, struct lm_l2_hash h);
/* L1 lost METHOD (LM_L2_ALL: everything): forget it, and invalidate. */
void lm_keymap_invalidate_method(struct lm_keymap *km, uint32_t method);
/* fork: the map lock around fork. */
void lm_keymap_lock(struct lm_keymap *km);
void lm_keymap_unlock(struct lm_keymap *km);
uint64_t lm_keymap_count(struct lm_keymap *km);

#endif
