#include "json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parser {
	const unsigned char *p;
	size_t len, pos;
	struct lm_json_err *err;
};

static void *fail(struct parser *ps, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void *fail(struct parser *ps, size_t at, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	ps->err->offset = at;
	vsnprintf(ps->err->msg, sizeof ps->err->msg, fmt, ap);
	va_end(ap);
	return NULL;
}

static void skip_ws(struct parser *ps)
{
	while (ps->pos < ps->len && (ps->p[ps->pos] == ' ' || ps->p[ps->pos] == '\t' ||
	                             ps->p[ps->pos] == '\n' || ps->p[ps->pos] == '\r'))
		ps->pos++;
}

/* The byte at the cursor, or -1 at the end. */
static int peek(const struct parser *ps)
{
	return ps->pos < ps->len ? ps->p[ps->pos] : -1;
}

static void *unexpected(struct parser *ps, const char *wanted)
{
	int c = peek(ps);
	if (c < 0)
		return fail(ps, ps->pos, "unexpected end of input, expected %s", wanted);
	if (c >= 0x20 && c < 0x7f)
		return fail(ps, ps->pos, "unexpected '%c', expected %s", c, wanted);
	return fail(ps, ps->pos, "unexpected byte 0x%02x, expected %s", c, wanted);
}

static struct lm_json *node(struct parser *ps, enum lm_json_type t)
{
	struct lm_json *v = calloc(1, sizeof *v);
	if (!v)
		return fail(ps, ps->pos, "out of memory");
	v->type = t;
	v->offset = ps->pos;
	return v;
}

void lm_json_free(struct lm_json *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		if (v->keys)
			free(v->keys[i]);
		lm_json_free(v->items[i]);
	}
	free(v->keys);
	free(v->items);
	free(v->str);
	free(v);
}

/* ---- strings --------------------------------------------------------------- */

static int hex4(const unsigned char *s)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int c = s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static size_t utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A \u escape at the cursor (on the 'u'), a surrogate pair taken whole.
 * The code point, or -1 after reporting the error. */
static long unicode_escape(struct parser *ps, size_t at)
{
	if (ps->len - ps->pos < 5 || hex4(ps->p + ps->pos + 1) < 0) {
		fail(ps, at, "bad \\u escape");
		return -1;
	}
	long cp = hex4(ps->p + ps->pos + 1);
	ps->pos += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		fail(ps, at, "lone low surrogate");
		return -1;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		const unsigned char *q = ps->p + ps->pos;
		int lo = ps->len - ps->pos >= 6 && q[0] == '\\' && q[1] == 'u' ? hex4(q + 2) : -1;
		if (lo < 0xdc00 || lo > 0xdfff) {
			fail(ps, at, "high surrogate without its low half");
			return -1;
		}
		ps->pos += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0) {
		fail(ps, at, "\\u0000 is not allowed");
		return -1;
	}
	return cp;
}

/* A string at the cursor (on the quote), decoded into a malloc'd buffer.
 * Decoding never grows a string: each escape is at least as long as the
 * bytes it stands for. */
static char *string(struct parser *ps, size_t *outlen)
{
	size_t start = ps->pos++;
	size_t end = ps->pos;
	while (end < ps->len && ps->p[end] != '"')
		end += ps->p[end] == '\\' ? 2 : 1;
	if (end >= ps->len)
		return fail(ps, start, "unterminated string");
	char *out = malloc(end - ps->pos + 1);
	if (!out)
		return fail(ps, start, "out of memory");
	size_t n = 0;
	while (ps->p[ps->pos] != '"') {
		size_t at = ps->pos;
		unsigned char c = ps->p[ps->pos++];
		if (c < 0x20) {
			free(out);
			return fail(ps, at, "control character 0x%02x in a string", c);
		}
		if (c != '\\') {
			out[n++] = (char)c;
			continue;
		}
		c = ps->p[ps->pos];
		static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
		const char *e = c ? strchr(from, c) : NULL;
		if (e) {
			out[n++] = to[e - from];
			ps->pos++;
		} else if (c == 'u') {
			long cp = unicode_escape(ps, at);
			if (cp < 0) {
				free(out);
				return NULL;
			}
			n += utf8(out + n, (unsigned)cp);
		} else {
			free(out);
			return fail(ps, at, "bad escape in a string");
		}
	}
	ps->pos++;
	out[n] = '\0';
	*outlen = n;
	return out;
}

/* ---- numbers --------------------------------------------------------------- */

static size_t digits(struct parser *ps)
{
	size_t n = 0;
	while (peek(ps) >= '0' && peek(ps) <= '9') {
		ps->pos++;
		n++;
	}
	return n;
}

static struct lm_json *number(struct parser *ps)
{
	struct lm_json *v = node(ps, LM_JSON_NUMBER);
	if (!v)
		return NULL;
	size_t start = ps->pos;
	if (peek(ps) == '-')
		ps->pos++;
	size_t int_at = ps->pos;
	size_t nd = digits(ps);
	if (nd == 0 || (nd > 1 && ps->p[int_at] == '0')) {
		lm_json_free(v);
		return fail(ps, start, "bad number");
	}
	if (peek(ps) == '.') {
		ps->pos++;
		if (digits(ps) == 0) {
			lm_json_free(v);
			return fail(ps, start, "bad number");
		}
	}
	if (peek(ps) == 'e' || peek(ps) == 'E') {
		ps->pos++;
		if (peek(ps) == '+' || peek(ps) == '-')
			ps->pos++;
		if (digits(ps) == 0) {
			lm_json_free(v);
			return fail(ps, start, "bad number");
		}
	}
	v->len = ps->pos - start;
	v->str = strndup((const char *)ps->p + start, v->len);
	if (!v->str) {
		lm_json_free(v);
		return fail(ps, start, "out of memory");
	}
	return v;
}

/* ---- containers ------------------------------------------------------------ */

static struct lm_json *value(struct parser *ps, int depth);

static int push(struct lm_json *v, char *key, struct lm_json *item, size_t *cap)
{
	if (v->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct lm_json **items = realloc(v->items, nc * sizeof(struct lm_json *));
		if (!items)
			return -1;
		v->items = items;
		if (v->type == LM_JSON_OBJECT) {
			char **keys = realloc(v->keys, nc * sizeof *keys);
			if (!keys)
				return -1;
			v->keys = keys;
		}
		*cap = nc;
	}
	if (v->keys)
		v->keys[v->n] = key;
	v->items[v->n++] = item;
	return 0;
}

/* An object or array at the cursor (on its opening bracket). */
static struct lm_json *container(struct parser *ps, int depth)
{
	bool obj = peek(ps) == '{';
	int close = obj ? '}' : ']';
	struct lm_json *v = node(ps, obj ? LM_JSON_OBJECT : LM_JSON_ARRAY);
	if (!v)
		return NULL;
	if (depth >= LM_JSON_MAX_DEPTH) {
		lm_json_free(v);
		return fail(ps, ps->pos, "nested too deeply");
	}
	ps->pos++;
	size_t cap = 0;
	skip_ws(ps);
	if (peek(ps) == close) {
		ps->pos++;
		return v;
	}
	for (;;) {
		char *key = NULL;
		skip_ws(ps);
		if (obj) {
			size_t klen;
			if (peek(ps) != '"') {
				lm_json_free(v);
				return unexpected(ps, "a key");
			}
			if (!(key = string(ps, &klen))) {
				lm_json_free(v);
				return NULL;
			}
			skip_ws(ps);
			if (peek(ps) != ':') {
				free(key);
				lm_json_free(v);
				return unexpected(ps, "':'");
			}
			ps->pos++;
		}
		struct lm_json *item = value(ps, depth + 1);
		if (!item || push(v, key, item, &cap) != 0) {
			if (item)
				fail(ps, item->offset, "out of memory");
			free(key);
			lm_json_free(item);
			lm_json_free(v);
			return NULL;
		}
		skip_ws(ps);
		if (peek(ps) == ',') {
			ps->pos++;
			continue;
		}
		if (peek(ps) == close) {
			ps->pos++;
			return v;
		}
		lm_json_free(v);
		return unexpected(ps, obj ? "',' or '}'" : "',' or ']'");
	}
}

static struct lm_json *value(struct parser *ps, int depth)
{
	skip_ws(ps);
	int c = peek(ps);
	if (c == '{' || c == '[')
		return container(ps, depth);
	if (c == '-' || (c >= '0' && c <= '9'))
		return number(ps);
	if (c == '"') {
		struct lm_json *v = node(ps, LM_JSON_STRING);
		if (v && !(v->str = string(ps, &v->len))) {
			lm_json_free(v);
			return NULL;
		}
		return v;
	}
	return unexpected(ps, "a value");
}

struct lm_json *lm_json_parse(const char *buf, size_t len, size_t *pos, struct lm_json_err *err)
{
	struct parser ps = {.p = (const unsigned char *)buf, .len = len, .pos = *pos, .err = err};
	struct lm_json *v = value(&ps, 0);
	if (v)
		*pos = ps.pos;
	return v;
}

/* ---- access ------------------------------------------------------------------ */

const struct lm_json *lm_json_get(const struct lm_json *obj, const char *key)
{
	if (!obj || obj->type != LM_JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < obj->n; i++)
		if (strcmp(obj->keys[i], key) == 0)
			return obj->items[i];
	return NULL;
}

int lm_json_u64(const struct lm_json *v, uint64_t *out)
{
	if (!v || v->type != LM_JSON_NUMBER)
		return -1;
	uint64_t x = 0;
	for (size_t i = 0; i < v->len; i++) {
		char c = v->str[i];
		if (c < '0' || c > '9' || x > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(c - '0');
	}
	*out = x;
	return 0;
}

int lm_json_milli(const struct lm_json *v, uint64_t *out)
{
	if (!v || v->type != LM_JSON_NUMBER || v->str[0] == '-' || strpbrk(v->str, "eE"))
		return -1;
	unsigned __int128 x = 0;
	int frac = -1; /* fraction digits seen, -1 before the point */
	bool round_up = false;
	for (size_t i = 0; i < v->len; i++) {
		char c = v->str[i];
		if (c == '.') {
			frac = 0;
			continue;
		}
		if (frac >= 3) {
			round_up |= frac == 3 && c >= '5';
			frac++;
			continue;
		}
		x = x * 10 + (unsigned)(c - '0');
		if (frac >= 0)
			frac++;
		if (x > UINT64_MAX)
			return -1;
	}
	for (int k = frac < 0 ? 0 : frac; k < 3; k++)
		x *= 10;
	x += round_up;
	if (x > UINT64_MAX)
		return -1;
	*out = (uint64_t)x;
	return 0;
}
