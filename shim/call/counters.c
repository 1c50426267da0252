#include "counters.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

__thread struct lm_tblock *lm_tls_counters;
uint32_t lm_counters_nmethods;

/* Blocks are never freed: a thread that ends hands its block back for the
 * next new thread, whose counts simply add to it. Sums stay right and
 * memory stays bounded by the peak number of threads. */
static struct lm_tblock *blocks;
/* For counts that cannot attach a block (lm_count_reentered); in the
 * list, so sums include it, and owned forever, so no thread takes it. */
static struct lm_tblock *shared;
static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t exit_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* At thread exit. The thread forgets the block it hands back: a count
 * from a later destructor of the same thread attaches a block again
 * rather than adding to one a new thread may own by then. */
static void release_block(void *p)
{
	struct lm_tblock *b = p;
	lm_tls_counters = NULL;
	__atomic_store_n(&b->owned, 0, __ATOMIC_RELEASE);
}

static void make_key(void)
{
	pthread_key_create(&exit_key, release_block);
}

void lm_counters_init(uint32_t nmethods)
{
	lm_counters_nmethods = nmethods;
	if (nmethods == 0 || shared)
		return;
	shared = calloc(1, sizeof *shared + (size_t)nmethods * LM_C_COUNT * sizeof shared->v[0]);
	if (!shared)
		return;
	shared->owned = 1;
	shared->next = blocks;
	__atomic_store_n(&blocks, shared, __ATOMIC_RELEASE);
}

void lm_count_reentered(uint32_t method, enum lm_counter c, uint64_t n)
{
	struct lm_tblock *b = lm_tls_counters;
	uint64_t *p;
	if (b) {
		p = &b->v[(uint64_t)method * LM_C_COUNT + c];
		__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
	} else if (shared) {
		p = &shared->v[(uint64_t)method * LM_C_COUNT + c];
		__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
	}
}

int lm_counters_attach(void)
{
	if (lm_counters_nmethods == 0)
		return -1;
	pthread_once(&key_once, make_key);
	pthread_mutex_lock(&blocks_lock);
	struct lm_tblock *b;
	for (b = blocks; b; b = b->next)
		if (!b->owned)
			break;
	if (!b) {
		size_t n = (size_t)lm_counters_nmethods * LM_C_COUNT;
		b = calloc(1, sizeof *b + n * sizeof b->v[0]);
		if (b) {
			b->next = blocks;
			__atomic_store_n(&blocks, b, __ATOMIC_RELEASE);
		}
	}
	if (b)
		b->owned = 1;
	pthread_mutex_unlock(&blocks_lock);
	if (!b)
		return -1;
	lm_tls_counters = b;
	pthread_setspecific(exit_key, b);
	return 0;
}

uint64_t lm_counters_sum(uint32_t method, enum lm_counter c)
{
	uint64_t sum = 0;
	for (struct lm_tblock *b = __atomic_load_n(&blocks, __ATOMIC_ACQUIRE); b; b = b->next)
		sum += __atomic_load_n(&b->v[(uint64_t)method * LM_C_COUNT + c], __ATOMIC_RELAXED);
	return sum;
}

void lm_counters_reset(void)
{
	size_t n = (size_t)lm_counters_nmethods * LM_C_COUNT;
	for (struct lm_tblock *b = blocks; b; b = b->next) {
		memset(b->v, 0, n * sizeof b->v[0]);
		b->owned = (b == lm_tls_counters || b == shared); /* the other threads are gone */
	}
	pthread_mutex_init(&blocks_lock, NULL);
}
