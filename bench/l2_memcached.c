/* An L2 hit against memcached (lm_l2_get: pooled handle, cached
 * generations, one get, header checks) next to a plain libmemcached get
 * loop on the same server and the same value size: what the shared tier
 * adds to a network round trip.
 *
 *   l2_memcached PORT CALLS  ->  l2_ns=... plain_ns=...  (per call) */
#include <libmemcached/memcached.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shim/tier/l2.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int port = atoi(argv[1]);
	long calls = atol(argv[2]);
	static const char val[64] =
	    "a result of sixty-four bytes, what a small function returns...";
	struct lm_tier_server hp = {"127.0.0.1", port};
	struct lm_l2_method m = {"bench_fn", 0x1234, true};
	struct lm_l2_params p = {.settings = {.version = LM_TIER_SETTINGS_VERSION,
	                                      .size = sizeof(struct lm_tier_settings),
	                                      .kind = LM_TIER_MEMCACHED,
	                                      .servers = &hp,
	                                      .nservers = 1,
	                                      .l1_ttl_ms = 60000, /* the generations stay cached */
	                                      .timeout_ms = 1000,
	                                      .max_entries = 1000,
	                                      .max_memory = 1 << 20},
	                         .namespace_ = "lmbench",
	                         .methods = &m,
	                         .nmethods = 1};
	char why[128] = "";
	struct lm_l2 *l = lm_l2_open(&p, why, sizeof why);
	if (!l || lm_l2_set(l, 0, "key", 3, val, sizeof val, 600000) != LM_L2_HIT) {
		fprintf(stderr, "l2_memcached: cannot store: %s\n", why);
		return 1;
	}
	struct lm_buf out = {0};
	double t0 = now_ns();
	for (long i = 0; i < calls; i++) {
		out.len = 0;
		if (lm_l2_get(l, 0, "key", 3, &out) != LM_L2_HIT)
			return 1;
	}
	double t1 = now_ns();
	lm_buf_free(&out);
	lm_l2_close(l);

	memcached_st *mc = memcached_create(NULL);
	memcached_behavior_set(mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
	memcached_server_add(mc, "127.0.0.1", (in_port_t)port);
	if (memcached_set(mc, "plain", 5, val, sizeof val, 600, 0) != MEMCACHED_SUCCESS)
		return 1;
	double t2 = now_ns();
	for (long i = 0; i < calls; i++) {
		size_t len;
		uint32_t flags;
		memcached_return_t rc;
		char *v = memcached_get(mc, "plain", 5, &len, &flags, &rc);
		if (!v)
			return 1;
		free(v);
	}
	double t3 = now_ns();
	memcached_free(mc);
	printf("l2_ns=%.0f plain_ns=%.0f\n", (t1 - t0) / calls, (t3 - t2) / calls);
	return 0;
}
