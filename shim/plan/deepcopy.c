/* Deep copies of [type] structs (spec 3.6): flattening one the callee
 * returned into a value blob, and rebuilding it, all pointers pointing
 * inside one arena, from a blob.
 *
 * A flattened struct is its inline bytes (every field copied at its own
 * width, padding and pointer fields zero, so equal content gives equal
 * bytes), then, for each field in order, what it points to:
 *   str         tag 0 (NULL) | tag 1, u32 length, bytes
 *   strv        tag 0 (NULL) | tag 1, u32 count, count x (u32 length, bytes)
 *   TYPE*       tag 0 (NULL) | tag 1, the pointed-to struct flattened
 *   TYPE        the nested struct's own pointed-to data, recursively */
#include <string.h>

#include "plan_internal.h"

/* The largest arena a rebuild may ask for: strv arrays take 8 bytes per
 * entry where the blob takes 4, plus alignment. */
#define REBUILD_MAX (4 * (size_t)LM_PLAN_MAX_DEEP)

static void inline_copy(const struct lm_plan *p, int t, const unsigned char *obj,
                        unsigned char *dst)
{
	const struct lm_ptype *ty = &p->types[t];
	size_t i;

	for (i = 0; i < ty->nfields; i++) {
		const struct lm_pfield *fl = &ty->fields[i];

		switch (fl->kind) {
		case LM_K_STR:
		case LM_K_STRV:
		case LM_K_STRUCT_PTR:
			break;
		case LM_K_BYTES:
			memcpy(dst + fl->offset, obj + fl->offset, fl->nbytes);
			break;
		case LM_K_STRUCT:
			inline_copy(p, fl->type, obj + fl->offset, dst + fl->offset);
			break;
		default:
			memcpy(dst + fl->offset, obj + fl->offset, fl->width);
			break;
		}
	}
}

static const void *field_ptr(const unsigned char *obj, const struct lm_pfield *fl)
{
	const void *v;

	memcpy(&v, obj + fl->offset, sizeof(v));
	return v;
}

static int put_strv(struct lm_buf *out, char *const *v, size_t start)
{
	unsigned char tag = 1;
	uint32_t n = 0, len;
	size_t at;

	if (!v) {
		tag = 0;
		return lm_buf_append(out, &tag, 1);
	}
	if (lm_buf_append(out, &tag, 1) < 0)
		return -1;
	at = out->len;
	if (lm_buf_append(out, &n, 4) < 0)
		return -1;
	for (; v[n]; n++) {
		size_t l = strlen(v[n]);

		len = (uint32_t)l;
		if (out->len - start > LM_PLAN_MAX_DEEP || l > LM_PLAN_MAX_DEEP ||
		    lm_buf_append(out, &len, 4) < 0 || lm_buf_append(out, v[n], l) < 0)
			return -1;
	}
	memcpy(out->p + at, &n, 4);
	return 0;
}

static int flatten_at(const struct lm_plan *p, int t, const unsigned char *obj, struct lm_buf *out,
                      unsigned depth, size_t start);

static int tails(const struct lm_plan *p, int t, const unsigned char *obj, struct lm_buf *out,
                 unsigned depth, size_t start)
{
	const struct lm_ptype *ty = &p->types[t];
	unsigned char zero = 0, one = 1;
	size_t i;
	int rc = 0;

	for (i = 0; i < ty->nfields && rc == 0; i++) {
		const struct lm_pfield *fl = &ty->fields[i];
		const char *s;

		switch (fl->kind) {
		case LM_K_STR:
			s = field_ptr(obj, fl);
			rc = s ? lm_buf_put_blob(out, s, strlen(s)) : lm_buf_append(out, &zero, 1);
			break;
		case LM_K_STRV:
			rc = put_strv(out, field_ptr(obj, fl), start);
			break;
		case LM_K_STRUCT_PTR:
			s = field_ptr(obj, fl);
			rc = lm_buf_append(out, s ? &one : &zero, 1);
			if (rc == 0 && s)
				rc = flatten_at(p, fl->type, (const unsigned char *)s, out,
				                depth + 1, start);
			break;
		case LM_K_STRUCT:
			rc = tails(p, fl->type, obj + fl->offset, out, depth, start);
			break;
		default:
			break;
		}
		if (out->len - start > LM_PLAN_MAX_DEEP)
			rc = -1;
	}
	return rc;
}

static int flatten_at(const struct lm_plan *p, int t, const unsigned char *obj, struct lm_buf *out,
                      unsigned depth, size_t start)
{
	size_t size = p->types[t].size;

	if (depth > LM_PLAN_MAX_DEPTH || lm_buf_reserve(out, size) < 0)
		return -1;
	memset(out->p + out->len, 0, size);
	inline_copy(p, t, obj, out->p + out->len);
	out->len += size;
	return tails(p, t, obj, out, depth, start);
}

int lm_deep_flatten(const struct lm_plan *p, int t, const void *obj, struct lm_buf *out)
{
	size_t start = out->len;

	if (flatten_at(p, t, obj, out, 0, start) < 0) {
		out->len = start;
		return -1;
	}
	return 0;
}

/* ---- rebuild ------------------------------------------------------------ */

struct rb {
	const struct lm_plan *p;
	struct lm_rd *r;
	unsigned char *arena; /* NULL: only validate and measure */
	size_t bump, limit;
};

static int rb_alloc(struct rb *b, size_t n, size_t align, size_t *off)
{
	size_t o = (b->bump + align - 1) & ~(align - 1);

	if (o > b->limit || n > b->limit - o)
		return -1;
	*off = o;
	b->bump = o + n;
	return 0;
}

static void rb_set(struct rb *b, size_t at, const void *v)
{
	if (b->arena)
		memcpy(b->arena + at, &v, sizeof(v));
}

/* A string of N bytes from the blob, NUL added; its arena offset in *OFF. */
static int rb_str(struct rb *b, size_t *off)
{
	const unsigned char *d;
	uint32_t n;

	if (!lm_rd_u32(b->r, &n) || !lm_rd_bytes(b->r, n, &d) || memchr(d, '\0', n) ||
	    rb_alloc(b, (size_t)n + 1, 1, off) < 0)
		return -1;
	if (b->arena) {
		memcpy(b->arena + *off, d, n);
		b->arena[*off + n] = '\0';
	}
	return 0;
}

static int rb_strv(struct rb *b, size_t at)
{
	size_t arr, s, i;
	uint32_t n;

	/* Each entry takes at least its 4-byte length in the blob. */
	if (!lm_rd_u32(b->r, &n) || n > b->r->n / 4 ||
	    rb_alloc(b, ((size_t)n + 1) * sizeof(char *), sizeof(char *), &arr) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (rb_str(b, &s) < 0)
			return -1;
		rb_set(b, arr + i * sizeof(char *), b->arena ? b->arena + s : NULL);
	}
	rb_set(b, arr + n * sizeof(char *), NULL);
	rb_set(b, at, b->arena ? b->arena + arr : NULL);
	return 0;
}

static int rb_struct(struct rb *b, int t, size_t at, unsigned depth);

static int rb_tails(struct rb *b, int t, size_t base, unsigned depth)
{
	const struct lm_ptype *ty = &b->p->types[t];
	size_t i, off;
	uint8_t tag;

	for (i = 0; i < ty->nfields; i++) {
		const struct lm_pfield *fl = &ty->fields[i];
		size_t at = base + fl->offset;

		if (fl->kind == LM_K_STRUCT) {
			if (rb_tails(b, fl->type, at, depth) < 0)
				return -1;
			continue;
		}
		if (fl->kind != LM_K_STR && fl->kind != LM_K_STRV && fl->kind != LM_K_STRUCT_PTR)
			continue;
		/* Every pointer field is written, NULL too: the inline bytes came
		 * from the blob and must not smuggle an address in. */
		if (!lm_rd_u8(b->r, &tag) || tag > 1)
			return -1;
		rb_set(b, at, NULL);
		if (!tag)
			continue;
		if (fl->kind == LM_K_STR) {
			if (rb_str(b, &off) < 0)
				return -1;
			rb_set(b, at, b->arena ? b->arena + off : NULL);
		} else if (fl->kind == LM_K_STRV) {
			if (rb_strv(b, at) < 0)
				return -1;
		} else {
			if (depth + 1 > LM_PLAN_MAX_DEPTH ||
			    rb_alloc(b, b->p->types[fl->type].size, 16, &off) < 0)
				return -1;
			rb_set(b, at, b->arena ? b->arena + off : NULL);
			if (rb_struct(b, fl->type, off, depth + 1) < 0)
				return -1;
		}
	}
	return 0;
}

static int rb_struct(struct rb *b, int t, size_t at, unsigned depth)
{
	size_t size = b->p->types[t].size;
	const unsigned char *d;

	if (!lm_rd_bytes(b->r, size, &d))
		return -1;
	if (b->arena)
		memcpy(b->arena + at, d, size);
	return rb_tails(b, t, at, depth);
}

int lm_deep_rebuild(const struct lm_plan *p, int t, struct lm_rd *r, unsigned char *arena,
                    size_t *need)
{
	struct rb b = {p, r, arena, 0, arena ? *need : REBUILD_MAX};
	size_t root;

	if (rb_alloc(&b, p->types[t].size, 16, &root) < 0 || rb_struct(&b, t, root, 0) < 0)
		return -1;
	if (!arena)
		*need = b.bump ? b.bump : 1;
	return 0;
}
