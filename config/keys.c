/* Which keys each section kind accepts (spec 3.1), and the messages for
 * keys that are not among them. */
#include <stdio.h>
#include <string.h>

#include "parse_internal.h"

static const char *const key_names[LM_KEY_COUNT] = {
    [LM_KEY_TTL] = "ttl",
    [LM_KEY_MAX_ENTRIES] = "max_entries",
    [LM_KEY_MAX_MEMORY] = "max_memory",
    [LM_KEY_BACKEND] = "backend",
    [LM_KEY_NAMESPACE] = "namespace",
    [LM_KEY_L1_TTL] = "l1_ttl",
    [LM_KEY_REDIS_TIMEOUT] = "redis_timeout",
    [LM_KEY_PROGRAMS] = "programs",
    [LM_KEY_HOOK] = "hook",
    [LM_KEY_COALESCE] = "coalesce",
    [LM_KEY_ADAPTIVE] = "adaptive",
    [LM_KEY_PERSIST] = "persist",
    [LM_KEY_CONTROL] = "control",
    [LM_KEY_STATS] = "stats",
    [LM_KEY_STATS_FORMAT] = "stats_format",
    [LM_KEY_STATS_SIGNAL] = "stats_signal",
    [LM_KEY_SHARED] = "shared",
    [LM_KEY_SHARED_MEMORY] = "shared_memory",
    [LM_KEY_FIELDS] = "fields",
    [LM_KEY_SIGNATURE] = "signature",
    [LM_KEY_NEGATIVE_TTL] = "negative_ttl",
    [LM_KEY_STALE_IF_ERROR] = "stale_if_error",
    [LM_KEY_WHEN] = "when",
    [LM_KEY_OBJECT] = "object",
    [LM_KEY_MODE] = "mode",
    [LM_KEY_DROP] = "drop",
};

#define BIT(k) (1u << (k))

static const unsigned allowed[] = {
    [LM_SEC_GLOBAL] = BIT(LM_KEY_TTL) | BIT(LM_KEY_MAX_ENTRIES) | BIT(LM_KEY_MAX_MEMORY) |
                      BIT(LM_KEY_BACKEND) | BIT(LM_KEY_NAMESPACE) | BIT(LM_KEY_L1_TTL) |
                      BIT(LM_KEY_REDIS_TIMEOUT) | BIT(LM_KEY_PROGRAMS) | BIT(LM_KEY_HOOK) |
                      BIT(LM_KEY_COALESCE) | BIT(LM_KEY_PERSIST) | BIT(LM_KEY_CONTROL) |
                      BIT(LM_KEY_STATS) | BIT(LM_KEY_STATS_FORMAT) | BIT(LM_KEY_STATS_SIGNAL) |
                      BIT(LM_KEY_ADAPTIVE) | BIT(LM_KEY_SHARED) | BIT(LM_KEY_SHARED_MEMORY),
    [LM_SEC_TYPE] = BIT(LM_KEY_FIELDS),
    [LM_SEC_CACHE] = BIT(LM_KEY_SIGNATURE) | BIT(LM_KEY_TTL) | BIT(LM_KEY_NEGATIVE_TTL) |
                     BIT(LM_KEY_STALE_IF_ERROR) | BIT(LM_KEY_WHEN) | BIT(LM_KEY_OBJECT) |
                     BIT(LM_KEY_HOOK) | BIT(LM_KEY_COALESCE) | BIT(LM_KEY_MAX_ENTRIES) |
                     BIT(LM_KEY_MODE) | BIT(LM_KEY_ADAPTIVE),
    [LM_SEC_INVALIDATE] = BIT(LM_KEY_SIGNATURE) | BIT(LM_KEY_DROP) | BIT(LM_KEY_WHEN) |
                          BIT(LM_KEY_OBJECT) | BIT(LM_KEY_HOOK),
};

const char *lm_key_name(enum lm_key k)
{
	return key_names[k];
}

const char *lm_sec_kind_name(enum lm_sec_kind k)
{
	static const char *const names[] = {"global", "type", "cache", "invalidate"};
	return names[k];
}

const char *lm_sec_label(const struct lm_rsec *s, char *buf, size_t len)
{
	if (s->kind == LM_SEC_GLOBAL)
		snprintf(buf, len, "[global]");
	else
		snprintf(buf, len, "[%s " LM_QFMT "]", lm_sec_kind_name(s->kind),
		         LM_QARG(s->name, s->nlen));
	return buf;
}

/* Edit distance, for "did you mean"; only short words get here. */
static size_t distance(const char *a, size_t n, const char *b)
{
	size_t m = strlen(b), row[32];

	for (size_t j = 0; j <= m; j++)
		row[j] = j;
	for (size_t i = 1; i <= n; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[m];
}

int lm_key_lookup(struct lm_ctx *c, const struct lm_rsec *s, const char *key, size_t klen,
                  struct lm_pos pos)
{
	char label[96], hint[64] = "";
	const char *near = NULL;
	size_t best = 3;

	for (int k = 0; k < LM_KEY_COUNT; k++)
		if ((allowed[s->kind] & BIT(k)) && strlen(key_names[k]) == klen &&
		    memcmp(key_names[k], key, klen) == 0)
			return k;
	/* Unknown: the nearest name, for the message (never for a known key:
	 * the distances were most of a config's parse time). */
	for (int k = 0; k < LM_KEY_COUNT && klen < 24; k++) {
		if (!(allowed[s->kind] & BIT(k)))
			continue;
		size_t d = distance(key, klen, key_names[k]);
		if (d < best) {
			best = d;
			near = key_names[k];
		}
	}
	if (near)
		snprintf(hint, sizeof(hint), " (did you mean '%s'?)", near);
	lm_diag_error(c, pos, "unknown key '" LM_QFMT "' in %s%s", LM_QARG(key, klen),
	              lm_sec_label(s, label, sizeof(label)), hint);
	return -1;
}
