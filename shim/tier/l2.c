/* The shared tier's front: lm_l2_open loads the backend, and every call
 * is checked here (method in range, shared) and keeps errno.
 *
 * Each backend is a plugin next to the shim (libldmemo-redis.so,
 * libldmemo-memcached.so), loaded only when the config names it: their
 * client libraries bring libstdc++, libcrypto and more, which a program
 * using the local cache must never get (two OpenSSL versions in one
 * process is a crash waiting to happen). */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "l2_internal.h"
#include "shim/base/guard.h"

typedef struct lm_l2 *(*open_fn)(const struct lm_l2_params *p, char *why, size_t whylen);

/* The backend's open function: from its plugin beside this library, else
 * already linked in (the test programs link the backends directly). */
static open_fn backend_open(const char *plugin, const char *symbol, char *why, size_t whylen)
{
	Dl_info self;
	char path[PATH_MAX];
	if (dladdr((void *)lm_l2_open, &self) && self.dli_fname) {
		const char *slash = strrchr(self.dli_fname, '/');
		int dir = slash ? (int)(slash - self.dli_fname) : 1;
		snprintf(path, sizeof path, "%.*s/%s", dir, slash ? self.dli_fname : ".", plugin);
		void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		if (h)
			return (open_fn)dlsym(h, symbol);
		snprintf(why, whylen, "%s", dlerror());
	}
	open_fn fn = (open_fn)dlsym(RTLD_DEFAULT, symbol);
	if (fn)
		why[0] = '\0';
	return fn;
}

struct lm_l2 *lm_l2_open(const struct lm_l2_params *p, char *why, size_t whylen)
{
	LM_KEEP_ERRNO();
	struct lm_l2 *l = NULL;
	if (!p || lm_tier_settings_check(&p->settings, why, whylen) != 0) {
		if (!p)
			snprintf(why, whylen, "no configuration");
	} else if (!p->namespace_ || !*p->namespace_ || strchr(p->namespace_, ' ')) {
		snprintf(why, whylen, "the namespace must be a non-empty word");
	} else {
		switch (p->settings.kind) {
		case LM_TIER_REDIS:
		case LM_TIER_MEMCACHED: {
			bool redis = p->settings.kind == LM_TIER_REDIS;
			open_fn fn = backend_open(
			    redis ? "libldmemo-redis.so" : "libldmemo-memcached.so",
			    redis ? "lm_l2_redis_open" : "lm_l2_memcached_open", why, whylen);
			l = fn ? fn(p, why, whylen) : NULL;
			break;
		}
		default:
			snprintf(why, whylen, "this backend is not supported by this build");
			break;
		}
	}
	return l;
}

/* Calls a backend may serve: a method it knows that may leave the process. */
static bool servable(const struct lm_l2 *l, uint32_t method)
{
	return l && method < l->p.nmethods && l->p.methods[method].shared;
}

enum lm_l2_result lm_l2_get_ttl(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen,
                                struct lm_buf *out, int64_t *l1_ttl_ms)
{
	if (!servable(l, method))
		return LM_L2_MISS;
	LM_KEEP_ERRNO();
	int64_t left = -1;
	enum lm_l2_result r = l->ops->get(l, method, key, klen, out, &left);
	if (r == LM_L2_HIT && l1_ttl_ms) {
		int64_t cap = l->p.settings.l1_ttl_ms;
		*l1_ttl_ms = (left >= 0 && left < cap) ? left : cap;
	}
	return r;
}

enum lm_l2_result lm_l2_get(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen,
                            struct lm_buf *out)
{
	return lm_l2_get_ttl(l, method, key, klen, out, NULL);
}

enum lm_l2_result lm_l2_set(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen,
                            const void *val, size_t vlen, int64_t ttl_ms)
{
	if (!servable(l, method) || ttl_ms <= 0)
		return LM_L2_MISS;
	LM_KEEP_ERRNO();
	enum lm_l2_result r = l->ops->set(l, method, key, klen, val, vlen, ttl_ms);
	return r;
}

void lm_l2_drop_key(struct lm_l2 *l, uint32_t method, const void *key, uint32_t klen)
{
	if (!servable(l, method))
		return;
	LM_KEEP_ERRNO();
	l->ops->drop_key(l, method, key, klen);
}

void lm_l2_drop_method(struct lm_l2 *l, uint32_t method)
{
	if (!servable(l, method))
		return;
	LM_KEEP_ERRNO();
	l->ops->drop_method(l, method);
}

void lm_l2_drop_all(struct lm_l2 *l)
{
	if (!l)
		return;
	LM_KEEP_ERRNO();
	l->ops->drop_all(l);
}

void lm_l2_close(struct lm_l2 *l)
{
	if (!l)
		return;
	LM_KEEP_ERRNO();
	l->ops->close(l);
}
