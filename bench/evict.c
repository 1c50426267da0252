/* Eviction driver: calls f (libbenchfn.so) once per key of a synthetic
 * trace, so that the shim's own policy decides what stays, and simulates
 * LRU of the same capacity on the same trace. The shim's hit ratio is read
 * afterwards from its JSON statistics; this prints LRU's.
 *
 *   evict zipf|scan KEYSPACE CAPACITY LENGTH
 *
 * zipf: LENGTH keys drawn Zipf(0.99) over KEYSPACE keys.
 * scan: blocks of 4000 Zipf(0.99) requests over KEYSPACE keys, each followed
 *       by a scan of 1000 keys that appear once and never again.
 * Output: `lru_hits=H calls=N lru_hit_ratio=R`. The trace is seeded, so
 * every run (and every configuration) sees the same one. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchfn.h"

#define ZIPF_S      0.99
#define SCAN_HOT    4000
#define SCAN_ONEOFF 1000

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) * (1.0 / 9007199254740992.0);
}

/* Zipf by inverse transform over the cumulative weights. */
static double *cdf;
static long nkeys;

static void zipf_init(long n)
{
	nkeys = n;
	cdf = malloc((size_t)n * sizeof(*cdf));
	if (!cdf) {
		perror("evict");
		exit(1);
	}
	double sum = 0;
	for (long i = 0; i < n; i++) {
		sum += 1.0 / pow((double)(i + 1), ZIPF_S);
		cdf[i] = sum;
	}
	for (long i = 0; i < n; i++)
		cdf[i] /= sum;
}

static long zipf(void)
{
	double x = uniform();
	long lo = 0, hi = nkeys - 1;
	while (lo < hi) {
		long mid = (lo + hi) / 2;
		if (cdf[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Scatter ranks over the key space so that the popular keys are not
	 * neighbours (multiplication by an odd constant modulo a power of two
	 * would need one; a large prime stride works for any size). */
	return (long)(((uint64_t)lo * 2654435761ULL) % (uint64_t)nkeys);
}

/* LRU over keys 0 .. maxkey-1: an intrusive list in arrays. */
static int32_t *prev, *next;
static uint8_t *present;
static int32_t head = -1, tail = -1;
static long held, cap;

static void lru_unlink(int32_t k)
{
	if (prev[k] >= 0)
		next[prev[k]] = next[k];
	else
		head = next[k];
	if (next[k] >= 0)
		prev[next[k]] = prev[k];
	else
		tail = prev[k];
}

static void lru_push_front(int32_t k)
{
	prev[k] = -1;
	next[k] = head;
	if (head >= 0)
		prev[head] = k;
	head = k;
	if (tail < 0)
		tail = k;
}

static int lru_access(int32_t k)
{
	if (present[k]) {
		lru_unlink(k);
		lru_push_front(k);
		return 1;
	}
	if (held == cap) {
		int32_t victim = tail;
		lru_unlink(victim);
		present[victim] = 0;
		held--;
	}
	lru_push_front(k);
	present[k] = 1;
	held++;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 5 || (strcmp(argv[1], "zipf") && strcmp(argv[1], "scan"))) {
		fprintf(stderr, "usage: evict zipf|scan KEYSPACE CAPACITY LENGTH\n");
		return 2;
	}
	int scan = strcmp(argv[1], "scan") == 0;
	long space = atol(argv[2]);
	cap = atol(argv[3]);
	long length = atol(argv[4]);
	if (space <= 0 || cap <= 0 || length <= 0 || space + length > INT32_MAX) {
		fprintf(stderr, "evict: sizes must be positive\n");
		return 2;
	}
	zipf_init(space);
	long maxkey = space + length;
	prev = malloc((size_t)maxkey * sizeof(*prev));
	next = malloc((size_t)maxkey * sizeof(*next));
	present = calloc((size_t)maxkey, 1);
	if (!prev || !next || !present) {
		perror("evict");
		return 1;
	}
	long hits = 0, oneoff = space;
	long acc = 0;
	for (long i = 0; i < length; i++) {
		long k;
		if (scan && i % (SCAN_HOT + SCAN_ONEOFF) >= SCAN_HOT)
			k = oneoff++;
		else
			k = zipf();
		hits += lru_access((int32_t)k);
		acc += f(k);
	}
	printf("lru_hits=%ld calls=%ld lru_hit_ratio=%.4f\n", hits, length, (double)hits / length);
	return acc == 42; /* keeps the calls alive; practically never true */
}
