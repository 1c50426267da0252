/* The persisted file format: round trip, and damaged files (truncated at
 * every offset, flipped bytes, random bytes, lying lengths) yield nothing
 * and never crash. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "shim/ops/persist_format.h"

static const struct lm_persist_method methods[] = {
    {"get_user", 0x1111222233334444ull},
    {"crypt", 0x5555666677778888ull},
    {"stat@GLIBC_2.33", 0},
};

struct rec {
	uint32_t method;
	const char *key;
	uint32_t klen;
	const char *val;
	int64_t exp;
};

static const struct rec recs[] = {
    {0, "\x2a\0\0\0\0\0\0\0", 8, "rc0 bob", 1700000000000},
    {1, "phrase\0salt", 11, "hash", INT64_MAX},
    {0, "", 0, "", 1},
    {1, "k", 1, "a longer value with some bytes in it", 42},
};
#define NRECS (sizeof recs / sizeof recs[0])

/* A real file of the records above, read back whole. */
static unsigned char *make_file(size_t *len)
{
	FILE *f = tmpfile();
	cr_assert_not_null(f);
	struct lm_persist_writer *w =
	    lm_persist_begin(fileno(f), "/usr/bin/app", "userdb", methods, 3);
	cr_assert_not_null(w);
	for (size_t i = 0; i < NRECS; i++)
		lm_persist_record(w, recs[i].method, recs[i].key, recs[i].klen, recs[i].val,
		                  strlen(recs[i].val), recs[i].exp);
	cr_assert_eq(lm_persist_finish(w), 0);
	long n = lseek(fileno(f), 0, SEEK_END);
	cr_assert_gt(n, LM_PERSIST_HEADER);
	unsigned char *buf = malloc((size_t)n);
	cr_assert_eq(pread(fileno(f), buf, (size_t)n, 0), n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

Test(codec, round_trip)
{
	size_t len;
	unsigned char *buf = make_file(&len);
	struct lm_persist_file f;
	cr_assert_eq(lm_persist_parse(buf, len, &f), LM_PERSIST_OK);
	cr_expect_eq(f.program_len, strlen("/usr/bin/app"));
	cr_expect_eq(memcmp(f.program, "/usr/bin/app", f.program_len), 0);
	cr_expect_eq(memcmp(f.namespace_, "userdb", f.namespace_len), 0);
	cr_assert_eq(f.nmethods, 3);
	for (uint32_t i = 0; i < 3; i++) {
		cr_expect_eq(f.methods[i].name_len, strlen(methods[i].name));
		cr_expect_eq(memcmp(f.methods[i].name, methods[i].name, f.methods[i].name_len), 0);
		cr_expect_eq(f.methods[i].fingerprint, methods[i].fingerprint);
	}
	cr_expect_eq(f.nrecs, NRECS);
	size_t off = 0, i = 0;
	struct lm_persist_rec r;
	while (lm_persist_next(&f, &off, &r)) {
		cr_assert_lt(i, NRECS);
		cr_expect_eq(r.method, recs[i].method);
		cr_expect_eq(r.klen, recs[i].klen);
		cr_expect_eq(memcmp(r.key, recs[i].key, r.klen), 0);
		cr_expect_eq(r.vlen, strlen(recs[i].val));
		cr_expect_eq(memcmp(r.val, recs[i].val, r.vlen), 0);
		cr_expect_eq(r.expires_wall_ms, recs[i].exp);
		i++;
	}
	cr_expect_eq(i, NRECS);
	lm_persist_file_free(&f);
	free(buf);
}

Test(codec, empty_file_has_no_records)
{
	FILE *f = tmpfile();
	struct lm_persist_writer *w = lm_persist_begin(fileno(f), "p", "n", NULL, 0);
	cr_assert_not_null(w);
	cr_assert_eq(lm_persist_finish(w), 0);
	long n = lseek(fileno(f), 0, SEEK_END);
	unsigned char buf[256];
	cr_assert_eq(pread(fileno(f), buf, (size_t)n, 0), n);
	struct lm_persist_file pf;
	cr_assert_eq(lm_persist_parse(buf, (size_t)n, &pf), LM_PERSIST_OK);
	cr_expect_eq(pf.nmethods, 0);
	cr_expect_eq(pf.nrecs, 0);
	size_t off = 0;
	struct lm_persist_rec r;
	cr_expect_eq(lm_persist_next(&pf, &off, &r), 0);
	lm_persist_file_free(&pf);
	fclose(f);
}

Test(codec, too_many_methods_refused)
{
	cr_expect_null(lm_persist_begin(-1, "p", "n", methods, LM_PERSIST_MAX_METHODS + 1));
}

Test(codec, truncation_at_every_offset_loads_nothing)
{
	size_t len;
	unsigned char *buf = make_file(&len);
	for (size_t cut = 0; cut < len; cut++) {
		unsigned char *part = malloc(cut ? cut : 1);
		memcpy(part, buf, cut);
		struct lm_persist_file f;
		enum lm_persist_status st = lm_persist_parse(part, cut, &f);
		cr_expect(st == (cut < 8 ? LM_PERSIST_E_FOREIGN : LM_PERSIST_E_DAMAGED),
		          "cut at %zu: status %d", cut, st);
		cr_expect_null(f.methods);
		free(part);
	}
	free(buf);
}

Test(codec, every_flipped_byte_is_caught)
{
	size_t len;
	unsigned char *buf = make_file(&len);
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x40;
		struct lm_persist_file f;
		cr_expect_neq(lm_persist_parse(buf, len, &f), LM_PERSIST_OK, "flip at %zu", i);
		buf[i] ^= 0x40;
	}
	free(buf);
}

Test(codec, another_version_is_named)
{
	size_t len;
	unsigned char *buf = make_file(&len);
	buf[8] = LM_PERSIST_VERSION + 1;
	struct lm_persist_file f;
	cr_expect_eq(lm_persist_parse(buf, len, &f), LM_PERSIST_E_VERSION);
	free(buf);
}

Test(codec, random_bytes_never_crash)
{
	unsigned seed = 7;
	unsigned char buf[512];
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)rand_r(&seed) % sizeof buf;
		for (size_t i = 0; i < len; i++)
			buf[i] = (unsigned char)rand_r(&seed);
		if (round & 1 && len >= 8)
			memcpy(buf, "LDMEMOPC", 8);
		struct lm_persist_file f;
		cr_expect_neq(lm_persist_parse(buf, len, &f), LM_PERSIST_OK);
	}
}

/* ---- bodies with a valid checksum that lie about lengths --------------- */

struct body {
	unsigned char b[256];
	size_t n;
};

static void put(struct body *x, const void *p, size_t n)
{
	memcpy(x->b + x->n, p, n);
	x->n += n;
}

static void put32(struct body *x, uint32_t v)
{
	put(x, &v, 4);
}

static void put64(struct body *x, uint64_t v)
{
	put(x, &v, 8);
}

static void head(struct body *x, uint32_t nmethods)
{
	put32(x, 1);
	put(x, "p", 1);
	put32(x, 1);
	put(x, "n", 1);
	put32(x, nmethods);
	for (uint32_t i = 0; i < nmethods; i++) {
		put32(x, 1);
		put(x, "m", 1);
		put64(x, 9);
	}
}

static enum lm_persist_status parse_body(const struct body *x)
{
	unsigned char file[LM_PERSIST_HEADER + sizeof x->b] = "LDMEMOPC";
	uint32_t version = LM_PERSIST_VERSION;
	uint64_t blen = x->n, sum = XXH3_64bits(x->b, x->n);
	memcpy(file + 8, &version, 4);
	memcpy(file + 16, &blen, 8);
	memcpy(file + 24, &sum, 8);
	memcpy(file + LM_PERSIST_HEADER, x->b, x->n);
	struct lm_persist_file f;
	enum lm_persist_status st = lm_persist_parse(file, LM_PERSIST_HEADER + x->n, &f);
	lm_persist_file_free(&f);
	return st;
}

static void record(struct body *x, uint32_t method, uint32_t klen, uint32_t vlen)
{
	put32(x, method);
	put32(x, klen);
	put32(x, vlen);
	put64(x, 5);
	for (uint32_t i = 0; i < klen + vlen && x->n < sizeof x->b; i++)
		put(x, "x", 1);
}

Test(codec, well_formed_crafted_body_parses)
{
	struct body x = {0};
	head(&x, 2);
	record(&x, 1, 3, 4);
	cr_expect_eq(parse_body(&x), LM_PERSIST_OK);
}

Test(codec, lying_lengths_are_damage)
{
	struct body x = {0};
	head(&x, 1);
	record(&x, 0, 3, 4);
	x.n -= 1; /* the value is one byte short */
	cr_expect_eq(parse_body(&x), LM_PERSIST_E_DAMAGED);

	x = (struct body){0};
	head(&x, 1);
	put32(&x, 0);
	put32(&x, 0xffffffff); /* a key longer than the file */
	put32(&x, 0);
	put64(&x, 5);
	cr_expect_eq(parse_body(&x), LM_PERSIST_E_DAMAGED);

	x = (struct body){0};
	head(&x, 1);
	record(&x, 1, 1, 1); /* no method 1 */
	cr_expect_eq(parse_body(&x), LM_PERSIST_E_DAMAGED);

	x = (struct body){0};
	head(&x, 0);
	x.n -= 4;
	put32(&x, 0x7fffffff); /* more methods than bytes */
	cr_expect_eq(parse_body(&x), LM_PERSIST_E_DAMAGED);

	x = (struct body){0};
	put32(&x, 3);
	put(&x, "a\0b", 3); /* a NUL inside a name */
	put32(&x, 0);
	put32(&x, 0);
	cr_expect_eq(parse_body(&x), LM_PERSIST_E_DAMAGED);

	x = (struct body){0};
	head(&x, 0);
	put(&x, "\1\0\0", 3); /* a partial record header */
	cr_expect_eq(parse_body(&x), LM_PERSIST_E_DAMAGED);
}
