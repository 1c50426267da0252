/* lm_buf: the growable byte buffer keys and values are built in. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "shim/base/guard.h"
#include "tpool.h"

int lm_buf_grow(struct lm_buf *b, size_t extra)
{
	size_t want, cap;
	unsigned char *np;

	if (extra > SIZE_MAX / 2 - b->len)
		return -1;
	want = b->len + extra;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap *= 2;
	LM_KEEP_ERRNO();
	if (b->pooled) {
		np = lm_tpool_take(cap);
		if (np && b->p) {
			memcpy(np, b->p, b->len);
			lm_tpool_give(b->p, b->cap);
		}
	} else {
		np = realloc(b->p, cap);
	}
	if (!np)
		return -1;
	b->p = np;
	b->cap = cap;
	return 0;
}

int lm_buf_append(struct lm_buf *b, const void *p, size_t n)
{
	if (lm_buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

void lm_buf_free(struct lm_buf *b)
{
	LM_KEEP_ERRNO();

	if (b->pooled)
		lm_tpool_give(b->p, b->cap);
	else
		free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

int lm_buf_put_blob(struct lm_buf *b, const void *p, size_t n)
{
	uint32_t n32 = (uint32_t)n;

	if (n > UINT32_MAX || lm_buf_reserve(b, 5 + n) < 0)
		return -1;
	b->p[b->len++] = 1;
	memcpy(b->p + b->len, &n32, 4);
	b->len += 4;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}
