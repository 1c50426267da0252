/* What the Redis and memcached tests share: a free loopback port, a clock,
 * string round trips through an lm_l2, and polling. Kept beside the
 * integration harness, which both of them link too. */
#ifndef IT_TIER_H
#define IT_TIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "shim/tier/l2.h"

int64_t lm_test_ms(void);
/* A loopback TCP port nobody listens on now, or -1. */
int lm_test_free_port(void);

/* Get KEY of METHOD into a string; the result code. */
enum lm_l2_result lm_test_get(struct lm_l2 *l, uint32_t method, const char *key, char *buf,
                              size_t len);
enum lm_l2_result lm_test_set(struct lm_l2 *l, uint32_t method, const char *key, const char *val,
                              int64_t ttl_ms);

/* Poll COND (an expression) for up to MS milliseconds. */
#define LM_WAIT_FOR(cond, ms)                                            \
	({                                                               \
		bool ok_ = false;                                        \
		for (int i_ = 0; i_ < (ms) / 5 && !(ok_ = (cond)); i_++) \
			usleep(5000);                                    \
		ok_ || (cond);                                           \
	})

#endif
