/* A host-tier hit at the table (lm_host_get: a copy of the slot under its
 * counter, the checksum, the key and generation checks), for two entry
 * shapes: `long f(long)` (an 8-byte key, a 16-byte value) and getpwnam's
 * (a 5-byte name, a 120-byte passwd copy). 64 keys each, cycled.
 *
 *   host_get DIR CALLS  ->  f_ns=... pw_ns=...  (per call) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "shim/host/host.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static double run(struct lm_host *h, const char *name, size_t klen, size_t vlen, long calls)
{
	struct lm_host_method m;
	lm_host_method_init(&m, name, 7);
	unsigned char keys[64][8], val[128];
	uint64_t hash[64];
	memset(val, 'v', sizeof val);
	for (int i = 0; i < 64; i++) {
		memset(keys[i], 'a' + i % 26, sizeof keys[i]);
		memcpy(keys[i], &i, sizeof i);
		hash[i] = XXH3_64bits(keys[i], klen);
		struct lm_buf out = {0};
		struct lm_host_ticket t;
		int64_t exp;
		lm_host_get(h, &m, hash[i], keys[i], (uint32_t)klen, &out, &exp, &t);
		if (lm_host_set(h, &m, hash[i], keys[i], (uint32_t)klen, val, vlen, 600000, &t) != 1)
			return -1;
		lm_buf_free(&out);
	}
	struct lm_buf out = {0};
	struct lm_host_ticket t;
	int64_t exp;
	double t0 = now_ns();
	for (long c = 0; c < calls; c++) {
		int i = (int)(c & 63);
		out.len = 0;
		if (lm_host_get(h, &m, hash[i], keys[i], (uint32_t)klen, &out, &exp, &t) != 1)
			return -1;
	}
	double t1 = now_ns();
	lm_buf_free(&out);
	return (t1 - t0) / (double)calls;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	long calls = atol(argv[2]);
	char why[512], note[512];
	struct lm_host *h = lm_host_open(argv[1], "bench", 8 << 20, why, sizeof why, note, sizeof note);
	if (!h) {
		fprintf(stderr, "host_get: %s\n", why);
		return 1;
	}
	double f = run(h, "f", 8, 16, calls), pw = run(h, "getpwnam", 5, 120, calls);
	lm_host_close(h);
	if (f < 0 || pw < 0)
		return 1;
	printf("f_ns=%.1f pw_ns=%.1f\n", f, pw);
	return 0;
}
