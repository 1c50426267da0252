/* lm_buf (buf.c): a growable byte buffer. The dispatcher keeps one per
 * thread and uses it as a stack (recursive calls push above their caller's
 * bytes), so the call path allocates only when a key or value is larger
 * than any before. */
#ifndef LM_BUF_H
#define LM_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct lm_buf {
	unsigned char *p;
	size_t len, cap;
	/* A thread's own buffer: its bytes come from and go back to the
	 * thread pool (tpool.h), not malloc. */
	bool pooled;
};
int lm_buf_grow(struct lm_buf *b, size_t extra); /* the slow path of lm_buf_reserve */
/* Room for EXTRA more bytes: 0, or -1 on OOM. Inline: the call path asks
 * on every key, and almost always there is room. */
static inline int lm_buf_reserve(struct lm_buf *b, size_t extra)
{
	return __builtin_expect(b->cap - b->len >= extra, 1) ? 0 : lm_buf_grow(b, extra);
}
int lm_buf_append(struct lm_buf *b, const void *p, size_t n);
void lm_buf_free(struct lm_buf *b);

#endif
