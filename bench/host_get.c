/* A host-tier hit at the table (lm_host_get: a copy of the slot under its
 * counter, the checksum, the key and generation checks), for two entry
 * shapes: `long f(long)` (an 8-byte key, a 16-byte value) and getpwnam's
 * (a 5-byte name, a 120-byte passwd copy). 64 keys each, cycled.
 *
 * Then what the tier costs a new process: opening a 64 MiB mapping (its
 * checks, the map) and the first hit in it, averaged over 200 rounds. The
 * handles are closed after the clock stops: a process never unmaps it,
 * its exit does (a munmap here costs a TLB shootdown a process's exit
 * does not pay).
 *
 *   host_get DIR CALLS  ->  f_ns=... pw_ns=... (per call) open_us=... */
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
		if (lm_host_set(h, &m, hash[i], keys[i], (uint32_t)klen, val, vlen, 600000, &t) !=
		    1)
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

/* A new process's first use of the tier: open, one hit, close. */
static double open_first_hit(const char *dir)
{
	char why[512], note[512];
	struct lm_host_method m;
	lm_host_method_init(&m, "slow", 7);
	long key = 7, val = 42;
	uint64_t hash = XXH3_64bits(&key, sizeof key);
	struct lm_host *h =
	    lm_host_open(dir, "bench-open", 64 << 20, why, sizeof why, note, sizeof note);
	struct lm_buf out = {0};
	struct lm_host_ticket t;
	int64_t exp;
	if (!h)
		return -1;
	lm_host_get(h, &m, hash, &key, sizeof key, &out, &exp, &t);
	int ok = lm_host_set(h, &m, hash, &key, sizeof key, &val, sizeof val, 600000, &t);
	lm_host_close(h);
	if (ok != 1)
		return -1;
	enum { ROUNDS = 200 };
	static struct lm_host *hs[ROUNDS];
	double t0 = now_ns();
	for (int r = 0; r < ROUNDS; r++) {
		hs[r] =
		    lm_host_open(dir, "bench-open", 64 << 20, why, sizeof why, note, sizeof note);
		out.len = 0;
		if (!hs[r] || lm_host_get(hs[r], &m, hash, &key, sizeof key, &out, &exp, &t) != 1)
			return -1;
	}
	double t1 = now_ns();
	for (int r = 0; r < ROUNDS; r++)
		lm_host_close(hs[r]);
	lm_buf_free(&out);
	return (t1 - t0) / ROUNDS / 1e3;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	long calls = atol(argv[2]);
	char why[512], note[512];
	struct lm_host *h =
	    lm_host_open(argv[1], "bench", 8 << 20, why, sizeof why, note, sizeof note);
	if (!h) {
		fprintf(stderr, "host_get: %s\n", why);
		return 1;
	}
	double f = run(h, "f", 8, 16, calls), pw = run(h, "getpwnam", 5, 120, calls);
	lm_host_close(h);
	double open_us = open_first_hit(argv[1]);
	if (f < 0 || pw < 0 || open_us < 0)
		return 1;
	printf("f_ns=%.1f pw_ns=%.1f open_us=%.1f\n", f, pw, open_us);
	return 0;
}
