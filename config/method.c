/* [cache NAME] and [invalidate NAME] (spec 3.1): the signature first, then
 * the keys that depend on it (`when`) and the plain settings. `drop` waits
 * for a later pass, once every signature is known. */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

static void mode(struct lm_ctx *c, const struct lm_kv *kv, enum lm_mode *m)
{
	if (kv->vlen == 5 && memcmp(kv->val, "cache", 5) == 0)
		*m = LM_MODE_CACHE;
	else if (kv->vlen == 6 && memcmp(kv->val, "verify", 6) == 0)
		*m = LM_MODE_VERIFY;
	else
		lm_value_bad(c, kv, "mode", " (use cache or verify)");
}

void lm_method_apply(struct lm_ctx *c, struct lm_rsec *s)
{
	struct lm_method *m = &c->cfg->methods[s->index];
	const struct lm_kv *k = s->keys;
	bool sig_ok = false;

	if (!k[LM_KEY_SIGNATURE].present)
		lm_diag_error(c, s->pos, "missing 'signature' in [%s %s]",
		              lm_sec_kind_name(s->kind), m->name ? m->name : "");
	else
		sig_ok = lm_sig_parse(c, s, &k[LM_KEY_SIGNATURE], &m->sig);
	if (s->kind == LM_SEC_INVALIDATE && !k[LM_KEY_DROP].present)
		lm_diag_error(c, s->pos, "missing 'drop' in [invalidate %s]",
		              m->name ? m->name : "");
	if (k[LM_KEY_TTL].present)
		lm_value_duration(c, &k[LM_KEY_TTL], &m->ttl_ms);
	if (k[LM_KEY_NEGATIVE_TTL].present)
		lm_value_duration(c, &k[LM_KEY_NEGATIVE_TTL], &m->negative_ttl_ms);
	if (k[LM_KEY_STALE_IF_ERROR].present)
		lm_value_duration(c, &k[LM_KEY_STALE_IF_ERROR], &m->stale_if_error_ms);
	if (k[LM_KEY_WHEN].present)
		m->when = lm_when_parse(c, &k[LM_KEY_WHEN], &m->sig, sig_ok);
	if (k[LM_KEY_OBJECT].present)
		m->object = lm_value_word(c, &k[LM_KEY_OBJECT], "object");
	if (k[LM_KEY_HOOK].present) {
		lm_value_hook(c, &k[LM_KEY_HOOK], &m->hook);
		m->hook_set = true;
	}
	if (k[LM_KEY_COALESCE].present) {
		bool b = true;
		lm_value_bool(c, &k[LM_KEY_COALESCE], &b);
		m->coalesce = b ? LM_ON : LM_OFF;
	}
	if (k[LM_KEY_ADAPTIVE].present) {
		bool b = true;
		lm_value_bool(c, &k[LM_KEY_ADAPTIVE], &b);
		m->adaptive = b ? LM_ON : LM_OFF;
	}
	if (k[LM_KEY_MAX_ENTRIES].present) {
		uint64_t n = UINT64_MAX; /* left so by a value in error */
		lm_value_count(c, &k[LM_KEY_MAX_ENTRIES], &n);
		m->max_entries_set = n != UINT64_MAX;
		m->max_entries = m->max_entries_set ? n : 0;
	}
	if (k[LM_KEY_MODE].present)
		mode(c, &k[LM_KEY_MODE], &m->mode);
}
