/* The store under ThreadSanitizer, without criterion (which cannot start
 * under TSan): threads look up, fill, coalesce on hot keys and drop at the
 * same time, and every hit's value must be the one its key implies. Exit
 * status 0 when every value was right; TSan reports fail the run itself. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "shim/store/store.h"

#define THREADS 4
#define ROUNDS  20000
#define KEYS    64

static struct lm_store *store;
static long wrong;

static uint64_t hash_of(uint32_t k)
{
	return k * 0x9E3779B97F4A7C15ull;
}

/* The store's cfg.hash: keys are uint32_t. */
static uint64_t key_hash(const void *key, uint32_t klen)
{
	uint32_t k = 0;
	memcpy(&k, key, klen < sizeof k ? klen : sizeof k);
	return hash_of(k);
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(long)arg;
	for (int i = 0; i < ROUNDS; i++) {
		seed = seed * 1103515245 + 12345;
		uint32_t k = (seed >> 8) % KEYS;
		if ((seed >> 20) % 97 == 0) {
			if ((seed >> 4) & 1)
				lm_store_drop_key(store, 0, hash_of(k), &k, sizeof k);
			else
				lm_store_drop_method(store, 0);
			continue;
		}
		struct lm_store_req r = {
		    .method = 0, .hash = hash_of(k), .key = &k, .klen = sizeof k, .coalesce = true};
		struct lm_entry *e, *stale;
		bool coalesced;
		switch (lm_store_lookup(store, &r, &e, &coalesced, &stale)) {
		case LM_LOOKUP_HIT: {
			size_t len;
			const uint32_t *v = lm_entry_value(e, &len);
			if (len != sizeof *v || *v != k * 3)
				__atomic_add_fetch(&wrong, 1, __ATOMIC_RELAXED);
			lm_entry_release(store, e);
			break;
		}
		case LM_LOOKUP_MISS: {
			uint32_t v = k * 3;
			lm_store_fill(store, &r, &v, sizeof v, 60000);
			break;
		}
		case LM_LOOKUP_RECURSE:
			break;
		}
	}
	return NULL;
}

int main(void)
{
	struct lm_store_cfg cfg = {
	    .max_entries = KEYS / 2, .max_memory = 1 << 20, .nmethods = 1, .hash = key_hash};
	store = lm_store_new(&cfg);
	if (!store)
		return 1;
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, worker, (void *)(i + 1));
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	lm_store_free(store);
	printf("tsan store race: %ld wrong values\n", wrong);
	return wrong != 0;
}
