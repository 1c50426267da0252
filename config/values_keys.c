/* Reading the simple `key = value` values (durations, counts, booleans,
 * hook, single words) with a message at the value when malformed. */
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

/* The value as a C string (values are slices of the file). */
char *lm_value_str(struct lm_ctx *c, const struct lm_kv *kv)
{
	return lm_strndup(c, kv->val, kv->vlen);
}

void lm_value_bad(struct lm_ctx *c, const struct lm_kv *kv, const char *what, const char *expect)
{
	lm_diag_error(c, kv->vpos, "invalid %s '" LM_QFMT "'%s", what, LM_QARG(kv->val, kv->vlen),
	              expect);
}

void lm_value_duration(struct lm_ctx *c, const struct lm_kv *kv, int64_t *ms)
{
	char *s = lm_value_str(c, kv);
	if (s && lm_parse_duration(s, ms) < 0)
		lm_value_bad(c, kv, "duration", " (use never, or a number with ms, s, m, h or d)");
	free(s);
}

void lm_value_count(struct lm_ctx *c, const struct lm_kv *kv, uint64_t *n)
{
	char *s = lm_value_str(c, kv);
	uint64_t v;
	/* A count is a size without a unit: one digit reader for both. */
	if (s && (strspn(s, "0123456789") != strlen(s) || lm_parse_size(s, &v) < 0))
		lm_value_bad(c, kv, "number", " (expected a non-negative integer)");
	else if (s)
		*n = v;
	free(s);
}

void lm_value_bool(struct lm_ctx *c, const struct lm_kv *kv, bool *b)
{
	char *s = lm_value_str(c, kv);
	if (s && lm_parse_bool(s, b) < 0)
		lm_value_bad(c, kv, "boolean", " (use on/off, yes/no, true/false or 1/0)");
	free(s);
}

void lm_value_hook(struct lm_ctx *c, const struct lm_kv *kv, enum lm_hook_kind *h)
{
	static const char *const names[] = {"auto", "detour", "got"};
	for (int i = 0; i < 3; i++) {
		if (strlen(names[i]) == kv->vlen && memcmp(names[i], kv->val, kv->vlen) == 0) {
			*h = (enum lm_hook_kind)i;
			return;
		}
	}
	lm_value_bad(c, kv, "hook", " (use auto, detour or got)");
}

/* A single word (a path, a name): blanks inside are most likely a typo. */
char *lm_value_word(struct lm_ctx *c, const struct lm_kv *kv, const char *what)
{
	const char *sp = memchr(kv->val, ' ', kv->vlen);
	if (!sp)
		sp = memchr(kv->val, '\t', kv->vlen);
	if (sp) {
		struct lm_pos pos = {kv->vpos.line, kv->vpos.col + (int)(sp - kv->val)};
		lm_diag_error(c, pos, "blank inside %s '" LM_QFMT "'", what,
		              LM_QARG(kv->val, kv->vlen));
		return NULL;
	}
	return lm_value_str(c, kv);
}
