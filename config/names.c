/* A name -> index table (open addressing, linear probing). The parser
 * looks a name up once per section and per type or method reference;
 * with a scan over all earlier sections, 200k sections took minutes. */
#include <stdlib.h>
#include <string.h>

#include "config.h"

size_t lm_names_compares;

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ull; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

/* The slot holding S, or the empty slot where it would go. */
static struct lm_name_slot *probe(const struct lm_names *t, const char *s, size_t n, uint64_t h)
{
	size_t mask = t->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct lm_name_slot *e = &t->slots[i];
		if (!e->s)
			return e;
		__atomic_fetch_add(&lm_names_compares, 1, __ATOMIC_RELAXED);
		if (e->hash == h && e->n == n && memcmp(e->s, s, n) == 0)
			return e;
	}
}

static int grow(struct lm_names *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct lm_name_slot *old = t->slots, *v = calloc(cap, sizeof(*v));
	size_t ocap = t->cap;

	if (!v)
		return -1;
	t->slots = v;
	t->cap = cap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].s)
			*probe(t, old[i].s, old[i].n, old[i].hash) = old[i];
	free(old);
	return 0;
}

int lm_names_put(struct lm_names *t, const char *s, size_t n, int idx)
{
	uint64_t h = hash(s, n);
	struct lm_name_slot *e;

	/* Load at most 1/2: probes stay short. */
	if ((t->n + 1) * 2 > t->cap && grow(t) < 0)
		return -1;
	e = probe(t, s, n, h);
	if (e->s)
		return e->idx;
	*e = (struct lm_name_slot){.s = s, .n = n, .hash = h, .idx = idx};
	t->n++;
	return idx;
}

int lm_names_find(const struct lm_names *t, const char *s, size_t n)
{
	if (!t->cap)
		return -1;
	const struct lm_name_slot *e = probe(t, s, n, hash(s, n));
	return e->s ? e->idx : -1;
}

void lm_names_free(struct lm_names *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
