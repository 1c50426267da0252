/* No input crashes or hangs the parser, and hostile input stays bounded. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

static void parse_bytes(struct parsed *p, const char *text, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->rc = lm_config_parse(text, len, "t.conf", &p->cfg, &p->d);
}

Test(robust, empty_and_null_text)
{
	struct parsed p;
	parse_bytes(&p, "", 0);
	cr_expect_eq(p.rc, 0);
	cr_expect_eq(p.d.n, 0);
	parsed_free(&p);
	parse_bytes(&p, NULL, 0);
	cr_expect_eq(p.rc, 0);
	parsed_free(&p);
}

Test(robust, nul_bytes_are_errors)
{
	struct parsed p;
	const char text[] = "[global]\nttl\0 = 5s\nhook = got\n";
	parse_bytes(&p, text, sizeof(text) - 1);
	cr_assert_eq(p.d.n, 1);
	cr_expect_str_eq(p.d.v[0].msg, "NUL byte in line");
	cr_expect_eq(p.d.v[0].pos.line, 2);
	cr_expect_eq(p.d.v[0].pos.col, 4);
	cr_expect_eq(p.cfg.global.hook, LM_HOOK_GOT);
	parsed_free(&p);
}

Test(robust, binary_garbage)
{
	size_t len = 1 << 20;
	char *text = malloc(len);
	uint32_t x = 12345;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		text[i] = (char)(x >> 16);
	}
	struct parsed p;
	parse_bytes(&p, text, len);
	cr_expect_gt(p.rc, 0);
	cr_expect_eq((size_t)p.rc, p.d.n);
	parsed_free(&p);
	free(text);
}

/* Garbage is reported, not just survived: errors, as many as the parser
 * returns, each with a message and a position inside TEXT. (rc >= 0, the
 * old check, only ruled out running out of memory.) */
static void expect_reported(const struct parsed *p, const char *text, size_t len, int round)
{
	int lines = 1, errors = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	for (size_t i = 0; i < p->d.n; i++) {
		const struct lm_diag *d = &p->d.v[i];
		errors += !d->warning;
		cr_expect(d->msg && d->msg[0], "round %d: diagnostic %zu has no message", round, i);
		cr_expect(d->pos.line >= 1 && d->pos.line <= lines && d->pos.col >= 1,
		          "round %d: %s at %d:%d, outside the %d lines", round, d->msg, d->pos.line,
		          d->pos.col, lines);
	}
	cr_expect_gt(p->rc, 0, "round %d: garbage without an error", round);
	cr_expect_eq(p->rc, errors, "round %d: returns %d errors, reports %d", round, p->rc,
	             errors);
}

Test(robust, garbage_made_of_config_tokens)
{
	static const char *const toks[] = {
	    "[",    "]",         "cache", "type", "invalidate", "global", " ", "=",
	    "(",    ")",         ",",     "*",    "\"",         "\\",     "#", ";",
	    "\n",   "signature", "drop",  "when", "fields",     "int",    "f", "out(",
	    "buf(", "ret",       "==",    "&&",   "||",         "static", "x", "1",
	    "-",    "@",         "...",   "ptr(", "str"};
	size_t n = sizeof(toks) / sizeof(toks[0]);
	uint32_t x = 7;
	for (int round = 0; round < 200; round++) {
		char text[4096];
		size_t len = 0;
		while (len < sizeof(text) - 16) {
			x = x * 1103515245 + 12345;
			const char *t = toks[(x >> 16) % n];
			memcpy(text + len, t, strlen(t));
			len += strlen(t);
		}
		struct parsed p;
		parse_bytes(&p, text, len);
		expect_reported(&p, text, len, round);
		parsed_free(&p);
	}
}

Test(robust, ten_megabyte_line)
{
	size_t len = 10u << 20;
	char *text = malloc(len + 64);
	size_t n = (size_t)sprintf(text, "[cache f]\nsignature = int f(");
	memset(text + n, 'a', len - n);
	text[len] = 0;
	struct parsed p;
	parse_bytes(&p, text, len);
	/* The 10 MB word is an unknown kind, quoted only in part. */
	cr_assert_eq(p.d.n, 2);
	cr_expect_str_eq(p.d.v[0].msg, "unknown parameter kind "
	                               "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");
	cr_expect_str_eq(p.d.v[1].msg, "missing ')' after the parameters");
	cr_expect_eq(p.d.v[1].pos.col, (int)(len - n) + 19);
	memset(text, 'k', len);
	memcpy(text, "[global]\n", 9);
	text[len - 3] = '=';
	parsed_free(&p);
	parse_bytes(&p, text, len);
	cr_assert_eq(p.d.n, 1);
	cr_expect_lt(strlen(p.d.v[0].msg), 200);
	parsed_free(&p);
	free(text);
}

Test(robust, hundred_thousand_nested_parentheses)
{
	size_t depth = 100000;
	char *text = malloc(2 * depth + 128);
	size_t n = (size_t)sprintf(text, "[cache f]\nsignature = int f(void)\nwhen = ");
	memset(text + n, '(', depth);
	n += depth;
	n += (size_t)sprintf(text + n, "ret == 0");
	memset(text + n, ')', depth);
	n += depth;
	struct parsed p;
	parse_bytes(&p, text, n);
	cr_assert_eq(p.d.n, 1);
	cr_expect_str_eq(p.d.v[0].msg, "'when' nested more than 64 parentheses deep");
	cr_expect(p.cfg.methods[0].broken);
	parsed_free(&p);
	free(text);
}

Test(robust, unterminated_string_and_truncated_header_at_eof)
{
	struct parsed p;
	parse_text(&p, "[cache g]\nsignature = int g(str s)\n"
	               "[invalidate w]\nsignature = int w(str s)\ndrop = g(\"abc");
	cr_assert_eq(p.d.n, 1);
	cr_expect_str_eq(p.d.v[0].msg, "unterminated string");
	parsed_free(&p);
	parse_text(&p, "[cache foo");
	cr_assert_eq(p.d.n, 1);
	cr_expect_str_eq(p.d.v[0].msg, "missing ']' in section header");
	parsed_free(&p);
}

Test(robust, many_sections_and_long_drop_lists)
{
	size_t cap = 1 << 20, n = 0;
	char *text = malloc(cap);
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(text + n, cap - n,
		                      "[cache f%d]\nsignature = int f%d(int x)\n", i, i);
	n += (size_t)snprintf(text + n, cap - n,
	                      "[invalidate w]\nsignature = int w(int x)\ndrop = ");
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(text + n, cap - n, "%sf%d(x)", i ? ", " : "", i);
	struct parsed p;
	parse_bytes(&p, text, n);
	cr_expect_eq(p.d.n, 0);
	cr_assert_eq(p.cfg.nmethods, 2001);
	cr_expect_eq(p.cfg.methods[2000].ndrops, 2000);
	cr_expect_eq(lm_config_find_method(&p.cfg, "f1999"), 1999);
	parsed_free(&p);
	free(text);
}

Test(robust, parse_preserves_errno)
{
	struct parsed p;
	errno = 1234;
	parse_text(
	    &p, "[global]\nttl = bad\n[cache f]\nsignature = double f(void)\nwhen = ret > 1.5e3\n");
	cr_expect_eq(errno, 1234);
	parsed_free(&p);
}
