/* Diagnostics: collecting them during a parse, ordering and rendering. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_internal.h"

static void add(struct lm_ctx *c, struct lm_pos pos, bool warning, const char *fmt, va_list ap)
{
	struct lm_diags *d = c->diags;
	char buf[512];

	if (!warning)
		c->errors++;
	struct lm_diag *v = lm_grow(c, d->v, &d->cap, d->n, sizeof(*v), 16);
	if (!v)
		return;
	d->v = v;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	d->v[d->n].msg = strdup(buf);
	if (!d->v[d->n].msg) {
		c->oom = true;
		return;
	}
	d->v[d->n].pos = pos;
	d->v[d->n].warning = warning;
	d->n++;
}

void lm_diag_error(struct lm_ctx *c, struct lm_pos pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(c, pos, false, fmt, ap);
	va_end(ap);
}

void lm_diag_warn(struct lm_ctx *c, struct lm_pos pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(c, pos, true, fmt, ap);
	va_end(ap);
}

static bool before(const struct lm_diag *a, const struct lm_diag *b)
{
	return a->pos.line < b->pos.line || (a->pos.line == b->pos.line && a->pos.col < b->pos.col);
}

static void merge_sort(struct lm_diag *v, struct lm_diag *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2, i = 0, j = h, k = 0;
	merge_sort(v, tmp, h);
	merge_sort(v + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] = before(&v[j], &v[i]) ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

/* Stable, so messages about one token keep the order they were found in.
 * Without memory for the scratch buffer the order of discovery is kept. */
void lm_diags_sort(struct lm_diags *d)
{
	struct lm_diag *tmp = d->n > 1 ? malloc(d->n * sizeof(*tmp)) : NULL;
	if (!tmp)
		return;
	merge_sort(d->v, tmp, d->n);
	free(tmp);
}

void lm_diags_free(struct lm_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

int lm_diag_format(const struct lm_config *cfg, const struct lm_diag *d, char *buf, size_t len)
{
	const char *file = cfg && cfg->file ? cfg->file : "<config>";
	const char *sev = d->warning ? "warning" : "error";

	/* no position: about the file as a whole (it cannot be read) */
	if (d->pos.line <= 0)
		return snprintf(buf, len, "%s: %s: %s", file, sev, d->msg ? d->msg : "");
	return snprintf(buf, len, "%s:%d:%d: %s: %s", file, d->pos.line, d->pos.col, sev,
	                d->msg ? d->msg : "");
}

void *lm_calloc(struct lm_ctx *c, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		c->oom = true;
	return p;
}

void *lm_grow(struct lm_ctx *c, void *v, size_t *cap, size_t n, size_t size, size_t first)
{
	if (n < *cap)
		return v;
	size_t ncap = *cap ? *cap * 2 : first;
	void *nv = ncap <= SIZE_MAX / size ? realloc(v, ncap * size) : NULL;
	if (!nv) {
		c->oom = true;
		return NULL;
	}
	*cap = ncap;
	return nv;
}

char *lm_strndup(struct lm_ctx *c, const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		c->oom = true;
	return p;
}
