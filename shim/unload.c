/* A library closed with dlclose takes its hooked methods with it: their
 * hooks point into memory that is gone, or that the next object mapped
 * there now owns. Their entries are dropped too: the library loaded again
 * may be another build, and a `ptr` result may point into the old one. */
#include "unload.h"

#include <pthread.h>

#include "shim/base/log.h"
#include "shim/call/adaptive.h"
#include "shim/call/invalidate.h"
#include "shim/call/runtime.h"
#include "shim/hook/hook.h"
#include "resolve.h"

void lm_unload_forget_closed(void)
{
	pthread_mutex_lock(&lm_resolve_lock);
	lm_adaptive_hold();
	for (uint32_t i = 0; i < lm_rt->nmethods; i++) {
		struct lm_rt_method *m = &lm_rt->methods[i];
		if (!m->hook || !lm_hook_gone(m->hook))
			continue;
		struct lm_hook *h = m->hook;
		uint64_t bypassed = lm_adaptive_bypassed(m);
		__atomic_store_n(&m->hook, NULL, __ATOMIC_RELEASE);
		m->state = LM_HS_UNLOADED;
		lm_adaptive_forget(m, bypassed);
		lm_hook_release(h);
		if (!m->cfg->invalidator)
			lm_invalidate_method(m->id);
		lm_info("%s: unloaded with %s: hooked again if it is loaded again", m->cfg->name,
		        m->object);
	}
	lm_adaptive_release();
	lm_hook_forget_unloaded();
	pthread_mutex_unlock(&lm_resolve_lock);
}
