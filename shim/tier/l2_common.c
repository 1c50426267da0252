/* What every backend shares: the value header, key names, backoff. Linked
 * into each backend plugin. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "l2_internal.h"

/* ---- Value header ------------------------------------------------------- */

static const unsigned char magic[4] = {'L', 'M', '2', 'V'};

static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int lm_l2_value_encode(struct lm_buf *out, uint64_t fingerprint, const void *key, uint32_t klen,
                       const void *val, size_t vlen)
{
	unsigned char h[LM_L2_HDR_LEN] = {0};
	memcpy(h, magic, sizeof magic);
	h[4] = LM_L2_FORMAT;
	put_le(h + 8, fingerprint, 8);
	put_le(h + 16, klen, 4);
	if (vlen > SIZE_MAX - LM_L2_HDR_LEN - klen ||
	    lm_buf_reserve(out, LM_L2_HDR_LEN + klen + vlen) != 0)
		return -1;
	lm_buf_append(out, h, sizeof h);
	lm_buf_append(out, key, klen);
	lm_buf_append(out, val, vlen);
	return 0;
}

bool lm_l2_value_check(const void *blob, size_t len, uint64_t fingerprint, const void *key,
                       uint32_t klen, const void **val, size_t *vlen)
{
	const unsigned char *b = blob;
	if (!b || len < LM_L2_HDR_LEN || memcmp(b, magic, sizeof magic) != 0 ||
	    b[4] != LM_L2_FORMAT || b[5] || b[6] || b[7] || get_le(b + 8, 8) != fingerprint ||
	    get_le(b + 16, 4) != klen || len - LM_L2_HDR_LEN < klen ||
	    memcmp(b + LM_L2_HDR_LEN, key, klen) != 0)
		return false;
	*val = b + LM_L2_HDR_LEN + klen;
	*vlen = len - LM_L2_HDR_LEN - klen;
	return true;
}

/* ---- Key names ---------------------------------------------------------- */

struct lm_l2_hash lm_l2_key_hash(const void *key, uint32_t klen)
{
	XXH128_hash_t x = XXH3_128bits(key, klen);
	return (struct lm_l2_hash){.hi = x.high64, .lo = x.low64};
}

static int append_str(struct lm_buf *out, const char *s)
{
	return lm_buf_append(out, s, strlen(s));
}

int lm_l2_data_name(struct lm_buf *out, const char *ns, const char *method, uint64_t ggen,
                    uint64_t mgen, struct lm_l2_hash h)
{
	char tail[96];
	int n = snprintf(tail, sizeof tail, ":%" PRIu64 ".%" PRIu64 ":%016" PRIx64 "%016" PRIx64,
	                 ggen, mgen, h.hi, h.lo);
	if (append_str(out, ns) || lm_buf_append(out, ":", 1) || append_str(out, method) ||
	    lm_buf_append(out, tail, (size_t)n))
		return -1;
	return 0;
}

int lm_l2_gen_name(struct lm_buf *out, const char *ns, const char *method)
{
	if (append_str(out, ns) || append_str(out, ":#gen"))
		return -1;
	if (method && (lm_buf_append(out, ":", 1) || append_str(out, method)))
		return -1;
	return 0;
}

/* Parse exactly N hex digits. */
static bool parse_hex(const char *s, int n, uint64_t *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		int c = (unsigned char)s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return false;
		*v = *v << 4 | (uint64_t)d;
	}
	return true;
}

/* Skip a run of 1..20 decimal digits at *I (bounded by LEN). */
static bool skip_digits(const char *s, size_t len, size_t *i)
{
	size_t start = *i;
	while (*i < len && s[*i] >= '0' && s[*i] <= '9' && *i - start < 20)
		(*i)++;
	return *i > start;
}

enum lm_l2_name_kind lm_l2_parse_name(const char *ns, const char *name, size_t len,
                                      struct lm_l2_name *out)
{
	size_t nslen = strlen(ns);
	if (!name || len <= nslen || memcmp(name, ns, nslen) != 0 || name[nslen] != ':')
		return LM_L2_NAME_OTHER;
	const char *s = name + nslen + 1;
	size_t n = len - nslen - 1;
	if (n == 4 && memcmp(s, "#gen", 4) == 0)
		return LM_L2_NAME_GEN_ALL;
	if (n > 5 && memcmp(s, "#gen:", 5) == 0) {
		out->method = s + 5;
		out->mlen = n - 5;
		return LM_L2_NAME_GEN_METHOD;
	}
	const char *colon = memchr(s, ':', n);
	if (!colon || colon == s)
		return LM_L2_NAME_OTHER;
	out->method = s;
	out->mlen = (size_t)(colon - s);
	size_t i = out->mlen + 1;
	if (!skip_digits(s, n, &i) || i >= n || s[i++] != '.' || !skip_digits(s, n, &i) || i >= n ||
	    s[i++] != ':' || n - i != 32 || !parse_hex(s + i, 16, &out->hash.hi) ||
	    !parse_hex(s + i + 16, 16, &out->hash.lo))
		return LM_L2_NAME_OTHER;
	return LM_L2_NAME_DATA;
}

/* ---- Backoff ------------------------------------------------------------ */

bool lm_backoff_admit(struct lm_backoff *b, int64_t now_ms)
{
	int64_t step = __atomic_load_n(&b->step_ms, __ATOMIC_ACQUIRE);
	if (step == 0)
		return true;
	int64_t until = __atomic_load_n(&b->until_ms, __ATOMIC_ACQUIRE);
	if (now_ms < until)
		return false;
	/* The period is over: the one caller that moves the end probes. */
	return __atomic_compare_exchange_n(&b->until_ms, &until, now_ms + step, false,
	                                   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

bool lm_backoff_fail(struct lm_backoff *b, int64_t now_ms)
{
	int64_t step = __atomic_load_n(&b->step_ms, __ATOMIC_ACQUIRE), next;
	do {
		next = step ? step * 2 : LM_L2_BACKOFF_MIN_MS;
		if (next > LM_L2_BACKOFF_MAX_MS)
			next = LM_L2_BACKOFF_MAX_MS;
	} while (!__atomic_compare_exchange_n(&b->step_ms, &step, next, false, __ATOMIC_ACQ_REL,
	                                      __ATOMIC_ACQUIRE));
	__atomic_store_n(&b->until_ms, now_ms + next, __ATOMIC_RELEASE);
	return step == 0; /* the CAS saw it healthy: this thread moved it */
}

bool lm_backoff_ok(struct lm_backoff *b)
{
	int64_t step = __atomic_load_n(&b->step_ms, __ATOMIC_RELAXED);
	if (step == 0)
		return false;
	__atomic_store_n(&b->until_ms, 0, __ATOMIC_RELEASE);
	/* Only the thread that clears the step reports the return. */
	return __atomic_compare_exchange_n(&b->step_ms, &step, 0, false, __ATOMIC_ACQ_REL,
	                                   __ATOMIC_RELAXED);
}
