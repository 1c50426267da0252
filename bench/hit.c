/* Hit-path driver: calls one function of libbenchfn.so in a tight loop over
 * a small hot key set and prints the time per call, measured inside the
 * process with CLOCK_MONOTONIC around the loop only (start-up, the first
 * miss of each key and a warm-up of three passes are outside it).
 *
 *   hit FN CALLS NKEYS THREADS shared|distinct
 *
 * FN is f, g, h or u. Every thread makes CALLS calls, cycling over NKEYS
 * keys (any count); with `distinct` each thread has its own NKEYS keys,
 * with `shared` all threads use the same. h's strings are 16 to 64 bytes
 * long.
 * Output: one line, `ns_per_call=N mcalls_per_s=M` (wall time over all
 * threads). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchfn.h"

static char fn;
static long calls;
static unsigned nkeys;
static int distinct;
static pthread_barrier_t start;
static volatile long sink;

struct worker {
	pthread_t tid;
	unsigned index;
	double t0, t1;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The loops are written once per function so that each is as tight as a
 * real caller's: index arithmetic (a counter that wraps at NK), the call,
 * and an accumulation that keeps the result alive. */
static long loop_f(const long *keys, long n, unsigned nk)
{
	long acc = 0;
	for (long i = 0, j = 0; i < n; i++, j = j + 1 == nk ? 0 : j + 1)
		acc += f(keys[j]);
	return acc;
}

static long loop_g(const double *keys, long n, unsigned nk)
{
	double acc = 0;
	for (long i = 0, j = 0; i < n; i++, j = j + 1 == nk ? 0 : j + 1)
		acc += g(keys[j]);
	return (long)acc;
}

static long loop_h(char *const *keys, long n, unsigned nk)
{
	long acc = 0;
	for (long i = 0, j = 0; i < n; i++, j = j + 1 == nk ? 0 : j + 1)
		acc += h(keys[j]);
	return acc;
}

static long loop_u(const long *keys, long n, unsigned nk)
{
	long acc = 0;
	char out[64];
	for (long i = 0, j = 0; i < n; i++, j = j + 1 == nk ? 0 : j + 1) {
		acc += u(keys[j], out);
		acc += out[i & 63];
	}
	return acc;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	unsigned base = distinct ? w->index * nkeys : 0;
	long *ikeys = malloc(nkeys * sizeof(long));
	double *dkeys = malloc(nkeys * sizeof(double));
	char **skeys = malloc(nkeys * sizeof(char *));
	if (!ikeys || !dkeys || !skeys) {
		perror("hit");
		exit(1);
	}
	for (unsigned k = 0; k < nkeys; k++) {
		ikeys[k] = 1000003L * (base + k) + 17;
		dkeys[k] = 0.25 + base + k;
		/* 16 to 64 bytes: the distinct part first, then padding */
		size_t len = 16 + (base + k) % 49;
		char full[96];
		snprintf(full, sizeof full, "user-%08u-%s", base + k,
		         "padding-padding-padding-padding-padding-padding-padding");
		skeys[k] = malloc(len + 1);
		if (!skeys[k]) {
			perror("hit");
			exit(1);
		}
		memcpy(skeys[k], full, len);
		skeys[k][len] = 0;
	}
	unsigned nk = nkeys;
	long acc = 0;
	/* Warm-up: every key three times, so that the timed loop only hits,
	 * and hits as a long-running program's do: ldmemo's per-thread table
	 * grows only for keys that come back, a pass or two after the first. */
	const long warm = 3L * nkeys;
	switch (fn) {
	case 'f':
		acc += loop_f(ikeys, warm, nk);
		break;
	case 'g':
		acc += loop_g(dkeys, warm, nk);
		break;
	case 'h':
		acc += loop_h(skeys, warm, nk);
		break;
	case 'u':
		acc += loop_u(ikeys, warm, nk);
		break;
	}
	pthread_barrier_wait(&start);
	w->t0 = now_s();
	switch (fn) {
	case 'f':
		acc += loop_f(ikeys, calls, nk);
		break;
	case 'g':
		acc += loop_g(dkeys, calls, nk);
		break;
	case 'h':
		acc += loop_h(skeys, calls, nk);
		break;
	case 'u':
		acc += loop_u(ikeys, calls, nk);
		break;
	}
	w->t1 = now_s();
	sink += acc;
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 6 || !strchr("fghu", argv[1][0])) {
		fprintf(stderr, "usage: hit f|g|h|u CALLS NKEYS THREADS shared|distinct\n");
		return 2;
	}
	fn = argv[1][0];
	calls = atol(argv[2]);
	nkeys = (unsigned)atoi(argv[3]);
	unsigned threads = (unsigned)atoi(argv[4]);
	distinct = strcmp(argv[5], "distinct") == 0;
	if (calls <= 0 || !nkeys || !threads || threads > 64) {
		fprintf(stderr, "hit: CALLS > 0, NKEYS > 0, 1..64 THREADS\n");
		return 2;
	}
	struct worker w[64];
	pthread_barrier_init(&start, NULL, threads);
	for (unsigned t = 0; t < threads; t++) {
		w[t].index = t;
		if (pthread_create(&w[t].tid, NULL, run, &w[t]) != 0) {
			perror("hit: pthread_create");
			return 1;
		}
	}
	double t0 = 0, t1 = 0;
	for (unsigned t = 0; t < threads; t++) {
		pthread_join(w[t].tid, NULL);
		if (t == 0 || w[t].t0 < t0)
			t0 = w[t].t0;
		if (w[t].t1 > t1)
			t1 = w[t].t1;
	}
	double total = (double)calls * threads;
	printf("ns_per_call=%.3f mcalls_per_s=%.3f\n", (t1 - t0) * 1e9 / (double)calls,
	       total / (t1 - t0) / 1e6);
	return 0;
}
