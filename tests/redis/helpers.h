/* A private redis-server per test, and lm_l2 instances wired to it with an
 * invalidation recorder. */
#ifndef LM_TEST_REDIS_HELPERS_H
#define LM_TEST_REDIS_HELPERS_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <sys/types.h>

#include "shim/tier/l2.h"
#include "tests/integration/helpers_tier.h"

struct lm_test_redis {
	pid_t pid;
	int port;
	char dir[64];
	char sock[128];
};

/* Start on a free loopback port and a unix socket in a fresh temp dir. */
bool lm_test_redis_start(struct lm_test_redis *t);
/* Start again on the same port and socket after a kill. */
bool lm_test_redis_restart(struct lm_test_redis *t);
void lm_test_redis_kill(struct lm_test_redis *t);
void lm_test_redis_stop(struct lm_test_redis *t);
/* A plain client, as another program would be. */
redisContext *lm_test_redis_raw(const struct lm_test_redis *t);

#define LM_TEST_NMETHODS 3
enum { M_USER, M_LOOKUP, M_LOCAL };

/* What the invalidation callback was told. */
struct lm_test_inval {
	int all;
	int method[LM_TEST_NMETHODS];
	int key[LM_TEST_NMETHODS];
	char last_key[64];
};

struct lm_test_l2 {
	struct lm_tier_server hp;
	struct lm_l2_method methods[LM_TEST_NMETHODS];
	struct lm_l2_params p;
	struct lm_test_inval seen; /* under a lock: read with lm_test_seen */
	struct lm_l2 *l2;
};

/* Open an lm_l2 on T over TCP or the unix socket; FP is M_USER's
 * fingerprint (others fixed). NULL on failure. */
struct lm_l2 *lm_test_l2_open(struct lm_test_l2 *x, const struct lm_test_redis *t, bool tcp,
                              uint64_t fp);
void lm_test_l2_close(struct lm_test_l2 *x);
/* The host lm_test_l2_open connects to over TCP; NULL: 127.0.0.1. */
extern const char *lm_test_host;
struct lm_test_inval lm_test_seen(struct lm_test_l2 *x);

/* What the backend reported (its `report` parameter), over all backends
 * the test opened. */
struct lm_test_reports {
	int down, up;
	char why[256]; /* the last reason */
};
extern struct lm_test_reports lm_test_reports;
void lm_test_report(const char *server, const char *why);
struct lm_test_reports lm_test_reports_now(void);

/* The Redis key name KEY of METHOD has at generations 0.0. */
void lm_test_name(const char *method, const char *key, char *buf, size_t len);

#endif
