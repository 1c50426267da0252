/* The differential fuzzer's fixture library: see difflib.h. Every function
 * sets errno (a hit replays the errno the function left, so one that kept
 * the caller's would differ from a direct call for no fault of the cache)
 * and writes every byte of its out buffer. */
#include "difflib.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA __attribute__((visibility("default")))
DATA long dz_db[DZ_DB];
DATA long dz_gen;
DATA long dz_weather;
DATA long dz_runs;

static const int transient[] = {EAGAIN, EINTR, ENOMEM, ETIMEDOUT, EIO};

static uint64_t fnv(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* Aligned so that the shim's 5-byte patch is one atomic write. */
#define FN __attribute__((noinline, aligned(16), visibility("default")))
/* NAME and NAME_direct, the same body. */
#define TWICE(ret, name, params, body) \
	FN ret name params             \
	{                              \
		dz_runs++;             \
		body                   \
	}                              \
	FN ret name##_direct params    \
	{                              \
		body                   \
	}

TWICE(long, dz_l, (long x), {
	errno = (int)(x & 7);
	return x * 7 - 3;
})

TWICE(int, dz_ii, (int a, unsigned b), {
	errno = (int)((a ^ (int)b) & 15);
	return a * 1000 + (int)b;
})

TWICE(double, dz_dd, (double a, double b), {
	errno = 1;
	return a * b + a;
})

TWICE(float, dz_f, (float x), {
	errno = 2;
	return x * 0.5f - 1.0f;
})

TWICE(void, dz_v, (void *ignored, short s), {
	(void)ignored;
	errno = s & 31;
})

TWICE(long, dz_ld, (long a, double b), {
	errno = 3;
	long bits;
	memcpy(&bits, &b, sizeof bits);
	return a ^ bits;
})

TWICE(double, dz_di, (double a, unsigned char n), {
	errno = n & 7;
	return a * n;
})

TWICE(long, dz_lil, (long a, void *ignored, long b), {
	(void)ignored;
	errno = 4;
	return a * 31 + b;
})

TWICE(long, dz_ill, (void *ignored, long a, long b), {
	(void)ignored;
	errno = 5;
	return a - b * 17;
})

TWICE(long, dz_none, (void), {
	errno = 6;
	return 4242;
})

TWICE(long, dz_s, (const char *s), {
	errno = s ? 0 : EINVAL;
	return s ? (long)fnv(s, strlen(s)) : -1;
})

TWICE(long, dz_b, (const void *p, unsigned n), {
	errno = p ? 8 : EFAULT;
	return p ? (long)fnv(p, n) : -2;
})

TWICE(char *, dz_name, (int64_t id), {
	errno = 9;
	char *s = malloc(48);
	if (s)
		snprintf(s, 48, "name-%lld-%ld", (long long)id, dz_db[id & (DZ_DB - 1)]);
	return s;
})

TWICE(const char *, dz_sname, (int id), {
	static char b[32];
	errno = 10;
	snprintf(b, sizeof b, "static-%d", id);
	return b;
})

TWICE(int, dz_get, (int64_t id, void *rec), {
	long v = dz_db[id & (DZ_DB - 1)];
	if (rec) {
		memset(rec, (int)(v & 0xff), 64);
		memcpy(rec, &v, sizeof v);
	}
	if (!v) {
		errno = ENOENT;
		return -1;
	}
	errno = 0;
	return 0;
})

/* Fails (EINVAL, nothing changed) for a negative value: its drops must
 * not apply then, and need not. */
TWICE(int, dz_set, (int64_t id, int64_t v), {
	if (v < 0) {
		errno = EINVAL;
		return -1;
	}
	dz_db[id & (DZ_DB - 1)] = v;
	errno = 0;
	return 0;
})

TWICE(int, dz_clear, (void), {
	memset(dz_db, 0, sizeof dz_db);
	errno = 0;
	return 0;
})

TWICE(long, dz_t, (long a, long b, long c), {
	errno = 11;
	return a + b * 3 + c * 7 + dz_gen * 1000;
})

TWICE(long, dz_ts, (const char *s), {
	errno = 12;
	return (s ? (long)strlen(s) : -1) + dz_gen * 1000;
})

/* Fails in bad weather, with a transient errno and a result that tells
 * the failures apart: a failure kept in the cache shows as a stale one. */
TWICE(long, dz_flaky, (long x), {
	if (dz_weather % 3 == 0) {
		errno = transient[dz_weather % 5];
		return -1 - dz_weather;
	}
	errno = 0;
	return x & 0xffff;
})

/* `when = ret >= 0.5`: a NaN fails it. */
TWICE(double, dz_wnan, (double x), {
	errno = 13;
	if (dz_weather % 3 == 0) {
		uint64_t bits = 0x7ff8000000000000ull | (uint64_t)(dz_weather & 0xffff);
		double nan;
		memcpy(&nan, &bits, sizeof nan);
		return nan;
	}
	return fabs(x) + 0.5;
})

TWICE(void *, dz_mb, (int k), {
	errno = 14;
	unsigned char *b = malloc(24);
	if (b)
		for (int i = 0; i < 24; i++)
			b[i] = (unsigned char)(k * 7 + i);
	return b;
})

TWICE(void *, dz_fill, (unsigned k, void *dst), {
	errno = 15;
	if (!dst)
		return NULL;
	memset(dst, (int)(k & 0xff), 32);
	memcpy(dst, &k, sizeof k);
	return dst;
})

TWICE(int, dz_u16, (unsigned short a, signed char b, _Bool c), {
	errno = 16;
	return a * 3 + b * 5 + c;
})
