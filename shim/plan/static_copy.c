/* Per-thread buffers behind `static` results on a hit: one per method and
 * thread, reused (and grown) by that thread's next hit on the method, as
 * the callee's own static buffer would be. Freed when the thread exits.
 *
 * Each buffer also keeps a copy of the bytes the last replay built in it
 * and a generation that moves whenever it is handed out again, so that a
 * hit on the same key can write those bytes back (undoing whatever the
 * caller wrote, as libc's next call would) instead of rebuilding them. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "plan_internal.h"
#include "shim/base/guard.h"

/* The first buffer's size: a struct tm, a struct passwd and its strings. */
#define LM_STATIC_MIN 512

__thread struct lm_static_slots *lm_static_tls;
/* Generations are unique per thread, so a slot never repeats one. */
static __thread uint64_t tls_gen;
static pthread_key_t slots_key;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;
static bool slots_key_ok;

static void slots_free(void *arg)
{
	struct lm_static_slots *s = arg;
	uint32_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].p);
		free(s->v[i].pristine);
	}
	free(s);
	lm_static_tls = NULL;
}

static void slots_key_init(void)
{
	slots_key_ok = pthread_key_create(&slots_key, slots_free) == 0;
}

static struct lm_static_slot *slot_get(uint32_t id)
{
	struct lm_static_slots *s = lm_static_tls, *ns;
	uint32_t n, had = s ? s->n : 0;

	if (lm_likely(s && id < s->n))
		return &s->v[id];
	pthread_once(&slots_once, slots_key_init);
	n = id < 8 ? 16 : id * 2;
	if (n <= id)
		return NULL;
	ns = realloc(s, sizeof(*ns) + (size_t)n * sizeof(ns->v[0]));
	if (!ns)
		return NULL;
	memset(&ns->v[had], 0, (size_t)(n - had) * sizeof(ns->v[0]));
	ns->n = n;
	lm_static_tls = ns;
	/* Without a key the buffers leak at thread exit but still work. */
	if (slots_key_ok)
		pthread_setspecific(slots_key, ns);
	return &ns->v[id];
}

void *lm_static_buf(uint32_t id, size_t n)
{
	LM_KEEP_ERRNO();
	struct lm_static_slot *sl = slot_get(id);
	void *np;

	if (!n)
		n = 1;
	if (sl) {
		sl->gen = ++tls_gen;
		sl->built = 0;
	}
	if (sl && sl->cap < n) {
		/* libc's buffer keeps its address from one key to the next
		 * (callers compare the pointers): room to spare, so that a
		 * result a few bytes longer ("CEST" after "CET") does not move
		 * it. realloc may move even a small growth (ASan's always does). */
		size_t want = n < LM_STATIC_MIN ? LM_STATIC_MIN : n + n / 2;
		np = realloc(sl->p, want);
		if (np) {
			/* Zeroed: a rebuild leaves padding alone, and lm_static_built
			 * copies the whole region. */
			memset((char *)np + sl->cap, 0, want - sl->cap);
			sl->p = np;
			sl->cap = want;
		}
	}
	return sl && sl->cap >= n ? sl->p : NULL;
}

void lm_static_built(uint32_t id, size_t n)
{
	LM_KEEP_ERRNO();
	struct lm_static_slots *s = lm_static_tls;
	struct lm_static_slot *sl;

	if (!s || id >= s->n || !(sl = &s->v[id])->gen || !n || n > sl->cap)
		return;
	if (sl->pcap < n) {
		void *np = realloc(sl->pristine, n);

		if (!np)
			return;
		sl->pristine = np;
		sl->pcap = n;
	}
	memcpy(sl->pristine, sl->p, n);
	sl->built = n;
}

uint64_t lm_static_gen(uint32_t id)
{
	const struct lm_static_slots *s = lm_static_tls;

	return s && id < s->n && s->v[id].built ? s->v[id].gen : 0;
}
