/* Private memcached servers per test on free loopback ports, a raw text
 * protocol client that talks to one server as another program would, and
 * lm_l2 instances over them. */
#ifndef LM_TEST_MC_HELPERS_H
#define LM_TEST_MC_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shim/tier/l2.h"
#include "tests/integration/helpers_tier.h"

#define LM_TEST_MC_MAX 2

struct lm_test_mc {
	pid_t pid;
	int port;
};

/* Start on a free loopback port (restart: on the same port). */
bool lm_test_mc_start(struct lm_test_mc *t);
bool lm_test_mc_restart(struct lm_test_mc *t);
void lm_test_mc_kill(struct lm_test_mc *t);

/* One text-protocol exchange with the server on PORT: send CMD (LEN
 * bytes), read until the reply ends with END (or a one-line reply when
 * LINE), into BUF (NUL-terminated). Bytes read, or -1. */
long lm_test_mc_raw(int port, const void *cmd, size_t len, bool line, char *buf, size_t cap);
/* The value of KEY on the server on PORT into BUF; its length, or -1 when
 * absent. */
long lm_test_mc_get(int port, const char *key, char *buf, size_t cap);
/* Store raw bytes under KEY on the server on PORT. */
bool lm_test_mc_set(int port, const char *key, const void *val, size_t len, long exptime);
/* STAT NAME of the server on PORT, or -1. */
long lm_test_mc_stat(int port, const char *name);

enum { M_USER, M_LOOKUP, M_LOCAL, LM_TEST_NMETHODS };

struct lm_test_l2 {
	struct lm_tier_server hp[LM_TEST_MC_MAX];
	struct lm_l2_method methods[LM_TEST_NMETHODS];
	struct lm_l2_params p;
	struct lm_l2 *l2;
};

/* An lm_l2 on the N servers of T, namespace NS ("lmtest" when NULL), with
 * l1_ttl L1_TTL_MS. NULL on failure. */
/* The request deadline lm_test_l2_open gives the tier (50 ms, the
 * default; LM_TEST_REDIS_TIMEOUT_MS overrides it). */
extern int64_t lm_test_mc_deadline_ms;
struct lm_l2 *lm_test_l2_open(struct lm_test_l2 *x, const struct lm_test_mc *t, int n,
                              const char *ns, int64_t l1_ttl_ms);
void lm_test_l2_close(struct lm_test_l2 *x);

/* What the backends the test opened reported (their `report` parameter):
 * servers going down, with the last reason, and coming back. */
struct lm_test_mc_reports {
	int down, up;
	char why[256];
};
struct lm_test_mc_reports lm_test_mc_reports_now(void);
void lm_test_mc_reports_reset(void);

/* The memcached key KEY of METHOD has now in namespace NS, read from the
 * generations the servers of T hold; false when they are not set. */
bool lm_test_data_key(const struct lm_test_mc *t, int n, const char *ns, const char *method,
                      const char *key, char *buf, size_t len);
/* Which of the N servers of T holds KEY, or -1. */
int lm_test_where(const struct lm_test_mc *t, int n, const char *key);

#endif
