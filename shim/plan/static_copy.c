/* Per-thread buffers behind `static` results on a hit: one per method and
 * thread, reused (and grown) by that thread's next hit on the method, as
 * the callee's own static buffer would be. Freed when the thread exits. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "plan_internal.h"
#include "shim/base/guard.h"

struct slot {
	void *p;
	size_t cap;
};

struct slots {
	uint32_t n;
	struct slot v[];
};

static __thread struct slots *tls_slots;
static pthread_key_t slots_key;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;
static bool slots_key_ok;

static void slots_free(void *arg)
{
	struct slots *s = arg;
	uint32_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].p);
	free(s);
	tls_slots = NULL;
}

static void slots_key_init(void)
{
	slots_key_ok = pthread_key_create(&slots_key, slots_free) == 0;
}

static struct slot *slot_get(uint32_t id)
{
	struct slots *s = tls_slots, *ns;
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
	tls_slots = ns;
	/* Without a key the buffers leak at thread exit but still work. */
	if (slots_key_ok)
		pthread_setspecific(slots_key, ns);
	return &ns->v[id];
}

void *lm_static_buf(uint32_t id, size_t n)
{
	LM_KEEP_ERRNO();
	struct slot *sl = slot_get(id);
	void *np;

	if (!n)
		n = 1;
	if (sl && sl->cap < n) {
		np = realloc(sl->p, n);
		if (np) {
			sl->p = np;
			sl->cap = n;
		}
	}
	return sl && sl->cap >= n ? sl->p : NULL;
}
