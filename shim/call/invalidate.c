/* Drops shared by write functions, the control socket and the public API:
 * one place to extend when a drop must reach more than the local store. */
#include "invalidate.h"
#include "runtime.h"

static bool shared(uint32_t id)
{
	return lm_rt->l2 && id < lm_rt->nmethods && lm_rt->methods[id].shared;
}

/* A method in the host tier: its drops reach every process of the host
 * before the write function returns. */
static struct lm_rt_method *host(uint32_t id)
{
	return lm_rt->host && id < lm_rt->nmethods && lm_rt->methods[id].host ? &lm_rt->methods[id]
	                                                                      : NULL;
}

size_t lm_invalidate_key_hashed(uint32_t id, uint64_t hash, const void *key, uint32_t klen)
{
	size_t n = lm_store_drop_key(lm_rt->store, id, hash, key, klen);
	struct lm_rt_method *m = host(id);
	if (m)
		n += lm_host_drop_key(lm_rt->host, &m->hm, hash, key, klen);
	if (shared(id))
		lm_l2_drop_key(lm_rt->l2, id, key, klen);
	return n;
}

size_t lm_invalidate_key(uint32_t id, const void *key, uint32_t klen)
{
	return lm_invalidate_key_hashed(id, lm_key_hash(key, klen), key, klen);
}

/* L2 and the host tier cannot match a pattern without walking their keys: there the whole
 * method goes, which is never less than asked. */
size_t lm_invalidate_match(uint32_t id, lm_key_pred pred, void *arg)
{
	size_t n = lm_store_drop_match(lm_rt->store, id, pred, arg);
	struct lm_rt_method *m = host(id);
	if (m)
		lm_host_drop_method(lm_rt->host, &m->hm);
	if (shared(id))
		lm_l2_drop_method(lm_rt->l2, id);
	return n;
}

size_t lm_invalidate_method(uint32_t id)
{
	size_t n = lm_store_drop_method(lm_rt->store, id);
	struct lm_rt_method *m = host(id);
	if (m)
		lm_host_drop_method(lm_rt->host, &m->hm);
	if (shared(id))
		lm_l2_drop_method(lm_rt->l2, id);
	return n;
}

size_t lm_invalidate_all(void)
{
	size_t n = lm_store_drop_all(lm_rt->store);
	if (lm_rt->host)
		lm_host_drop_all(lm_rt->host);
	if (lm_rt->l2)
		lm_l2_drop_all(lm_rt->l2);
	return n;
}
