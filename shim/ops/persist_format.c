#include "persist_format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

static const char magic[8] = {'L', 'D', 'M', 'E', 'M', 'O', 'P', 'C'};

/* ---- Writing --------------------------------------------------------------- */

struct lm_persist_writer {
	int fd;
	int failed;
	uint64_t body_len;
	XXH3_state_t *hash;
	size_t n;
	unsigned char buf[65536];
};

static void w_flush(struct lm_persist_writer *w)
{
	size_t off = 0;
	while (off < w->n && !w->failed) {
		ssize_t k = write(w->fd, w->buf + off, w->n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			w->failed = 1;
		else
			off += (size_t)k;
	}
	w->n = 0;
}

static void w_put(struct lm_persist_writer *w, const void *p, size_t len)
{
	const unsigned char *s = p;
	XXH3_64bits_update(w->hash, p, len);
	w->body_len += len;
	while (len > 0) {
		if (w->n == sizeof w->buf)
			w_flush(w);
		size_t k = sizeof w->buf - w->n;
		if (k > len)
			k = len;
		memcpy(w->buf + w->n, s, k);
		w->n += k;
		s += k;
		len -= k;
	}
}

static void w_u32(struct lm_persist_writer *w, uint32_t v)
{
	w_put(w, &v, sizeof v);
}

static void w_u64(struct lm_persist_writer *w, uint64_t v)
{
	w_put(w, &v, sizeof v);
}

/* A string cut to the format's bound: a longer name cannot match anyway. */
static void w_str(struct lm_persist_writer *w, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	if (len > LM_PERSIST_MAX_STR)
		len = LM_PERSIST_MAX_STR;
	w_u32(w, (uint32_t)len);
	w_put(w, s, len);
}

struct lm_persist_writer *lm_persist_begin(int fd, const char *program, const char *namespace_,
                                           const struct lm_persist_method *methods,
                                           uint32_t nmethods)
{
	if (nmethods > LM_PERSIST_MAX_METHODS)
		return NULL;
	struct lm_persist_writer *w = malloc(sizeof *w);
	if (!w)
		return NULL;
	*w = (struct lm_persist_writer){.fd = fd, .hash = XXH3_createState()};
	if (!w->hash || XXH3_64bits_reset(w->hash) != XXH_OK) {
		XXH3_freeState(w->hash);
		free(w);
		return NULL;
	}
	/* The header is written last, at offset 0, once the checksum is known. */
	memset(w->buf, 0, LM_PERSIST_HEADER);
	w->n = LM_PERSIST_HEADER;
	w_str(w, program);
	w_str(w, namespace_);
	w_u32(w, nmethods);
	for (uint32_t i = 0; i < nmethods; i++) {
		w_str(w, methods[i].name);
		w_u64(w, methods[i].fingerprint);
	}
	return w;
}

void lm_persist_record(struct lm_persist_writer *w, uint32_t method, const void *key, uint32_t klen,
                       const void *val, size_t vlen, int64_t expires_wall_ms)
{
	if (vlen > UINT32_MAX)
		return;
	w_u32(w, method);
	w_u32(w, klen);
	w_u32(w, (uint32_t)vlen);
	w_u64(w, (uint64_t)expires_wall_ms);
	w_put(w, key, klen);
	w_put(w, val, vlen);
}

int lm_persist_finish(struct lm_persist_writer *w)
{
	w_flush(w);
	unsigned char h[LM_PERSIST_HEADER] = {0};
	uint32_t version = LM_PERSIST_VERSION;
	uint64_t sum = XXH3_64bits_digest(w->hash);
	memcpy(h, magic, sizeof magic);
	memcpy(h + 8, &version, 4);
	memcpy(h + 16, &w->body_len, 8);
	memcpy(h + 24, &sum, 8);
	int failed = w->failed || pwrite(w->fd, h, sizeof h, 0) != (ssize_t)sizeof h;
	XXH3_freeState(w->hash);
	free(w);
	return failed ? -1 : 0;
}

/* ---- Reading --------------------------------------------------------------- */

/* A bounds-checked cursor over the body. */
struct rd {
	const unsigned char *p;
	size_t len, off;
	int bad;
};

static const void *rd_take(struct rd *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	const void *p = r->p + r->off;
	r->off += n;
	return p;
}

static uint32_t rd_u32(struct rd *r)
{
	uint32_t v = 0;
	const void *p = rd_take(r, sizeof v);
	if (p)
		memcpy(&v, p, sizeof v);
	return v;
}

static uint64_t rd_u64(struct rd *r)
{
	uint64_t v = 0;
	const void *p = rd_take(r, sizeof v);
	if (p)
		memcpy(&v, p, sizeof v);
	return v;
}

/* A string without NUL bytes, at most LM_PERSIST_MAX_STR long. */
static const char *rd_str(struct rd *r, uint32_t *len)
{
	*len = rd_u32(r);
	if (*len > LM_PERSIST_MAX_STR)
		r->bad = 1;
	const char *s = r->bad ? NULL : rd_take(r, *len);
	if (s && memchr(s, '\0', *len))
		r->bad = 1;
	return r->bad ? NULL : s;
}

/* One record; bad when any length runs past the body or the method index
 * is out of range. */
static int rd_rec(struct rd *r, uint32_t nmethods, struct lm_persist_rec *rec)
{
	rec->method = rd_u32(r);
	rec->klen = rd_u32(r);
	rec->vlen = rd_u32(r);
	rec->expires_wall_ms = (int64_t)rd_u64(r);
	rec->key = rd_take(r, rec->klen);
	rec->val = rd_take(r, rec->vlen);
	if (rec->method >= nmethods)
		r->bad = 1;
	return r->bad ? -1 : 0;
}

bool lm_persist_magic(const void *buf, size_t len)
{
	return len >= sizeof magic && memcmp(buf, magic, sizeof magic) == 0;
}

enum lm_persist_status lm_persist_parse(const void *buf, size_t len, struct lm_persist_file *f)
{
	*f = (struct lm_persist_file){0};
	const unsigned char *b = buf;
	if (!lm_persist_magic(b, len))
		return LM_PERSIST_E_FOREIGN;
	if (len < LM_PERSIST_HEADER)
		return LM_PERSIST_E_DAMAGED;
	uint32_t version, reserved;
	uint64_t body_len, sum;
	memcpy(&version, b + 8, 4);
	memcpy(&reserved, b + 12, 4);
	memcpy(&body_len, b + 16, 8);
	memcpy(&sum, b + 24, 8);
	if (version != LM_PERSIST_VERSION)
		return LM_PERSIST_E_VERSION;
	if (reserved != 0 || body_len != len - LM_PERSIST_HEADER ||
	    XXH3_64bits(b + LM_PERSIST_HEADER, body_len) != sum)
		return LM_PERSIST_E_DAMAGED;

	struct rd r = {.p = b + LM_PERSIST_HEADER, .len = body_len};
	f->program = rd_str(&r, &f->program_len);
	f->namespace_ = rd_str(&r, &f->namespace_len);
	f->nmethods = rd_u32(&r);
	if (r.bad || f->nmethods > LM_PERSIST_MAX_METHODS ||
	    (size_t)f->nmethods * 12 > r.len - r.off)
		return LM_PERSIST_E_DAMAGED;
	f->methods = calloc(f->nmethods ? f->nmethods : 1, sizeof *f->methods);
	if (!f->methods)
		return LM_PERSIST_E_NOMEM;
	for (uint32_t i = 0; i < f->nmethods && !r.bad; i++) {
		f->methods[i].name = rd_str(&r, &f->methods[i].name_len);
		f->methods[i].fingerprint = rd_u64(&r);
	}
	f->recs = r.p + r.off;
	f->recs_len = r.len - r.off;
	struct lm_persist_rec rec;
	while (!r.bad && r.off < r.len)
		if (rd_rec(&r, f->nmethods, &rec) == 0)
			f->nrecs++;
	if (r.bad) {
		lm_persist_file_free(f);
		return LM_PERSIST_E_DAMAGED;
	}
	return LM_PERSIST_OK;
}

void lm_persist_file_free(struct lm_persist_file *f)
{
	free(f->methods);
	*f = (struct lm_persist_file){0};
}

int lm_persist_next(const struct lm_persist_file *f, size_t *off, struct lm_persist_rec *r)
{
	struct rd c = {.p = f->recs, .len = f->recs_len, .off = *off};
	if (c.off >= c.len || rd_rec(&c, f->nmethods, r) != 0)
		return 0;
	*off = c.off;
	return 1;
}
