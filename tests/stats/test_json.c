/* The command's JSON reader: what a dump contains parses, anything else
 * is refused with the right byte offset, and no input crashes it. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cli/json.h"

static struct lm_json *parse(const char *text, struct lm_json_err *err)
{
	size_t pos = 0;
	return lm_json_parse(text, strlen(text), &pos, err);
}

/* The error offset of TEXT, which must not parse. */
static size_t error_at(const char *text)
{
	struct lm_json_err err = {0};
	struct lm_json *v = parse(text, &err);
	cr_assert_null(v, "%s parsed", text);
	cr_expect_neq(err.msg[0], '\0');
	return err.offset;
}

Test(json, nested_objects_and_arrays)
{
	struct lm_json_err err;
	struct lm_json *v = parse(" {\"a\": [1, {\"b\": \"x\"}, []], \"c\": {}} ", &err);
	cr_assert_not_null(v, "%s at %zu", err.msg, err.offset);
	cr_expect_eq(v->type, LM_JSON_OBJECT);
	cr_expect_eq(v->n, 2);
	const struct lm_json *a = lm_json_get(v, "a");
	cr_assert_not_null(a);
	cr_expect_eq(a->type, LM_JSON_ARRAY);
	cr_assert_eq(a->n, 3);
	cr_expect_str_eq(lm_json_get(a->items[1], "b")->str, "x");
	cr_expect_eq(a->items[2]->n, 0);
	cr_expect_eq(lm_json_get(v, "c")->type, LM_JSON_OBJECT);
	cr_expect_null(lm_json_get(v, "d"));
	cr_expect_eq(a->offset, 7);
	lm_json_free(v);
}

Test(json, string_escapes)
{
	struct lm_json_err err;
	struct lm_json *v = parse("\"q\\\"b\\\\s\\/n\\nt\\tu\\u00e9\\ud83d\\ude00\\u0001\"", &err);
	cr_assert_not_null(v, "%s", err.msg);
	cr_expect_str_eq(v->str, "q\"b\\s/n\nt\tu\xc3\xa9\xf0\x9f\x98\x80\x01");
	cr_expect_eq(v->len, strlen(v->str));
	lm_json_free(v);
}

Test(json, raw_high_bytes_pass)
{
	struct lm_json_err err;
	struct lm_json *v = parse("\"/tmp/\xff\xfe\"", &err);
	cr_assert_not_null(v, "%s", err.msg);
	cr_expect_str_eq(v->str, "/tmp/\xff\xfe");
	lm_json_free(v);
}

Test(json, integers_and_the_uptime_float)
{
	struct lm_json_err err;
	struct lm_json *v = parse("[0, 18446744073709551615, 18446744073709551616, 1.5, 1.2345, "
	                          "0.0005, 7, -1, 1e3]",
	                          &err);
	cr_assert_not_null(v, "%s", err.msg);
	uint64_t u;
	cr_expect_eq(lm_json_u64(v->items[0], &u), 0);
	cr_expect_eq(u, 0);
	cr_expect_eq(lm_json_u64(v->items[1], &u), 0);
	cr_expect_eq(u, UINT64_MAX);
	cr_expect_eq(lm_json_u64(v->items[2], &u), -1, "overflow refused");
	cr_expect_eq(lm_json_u64(v->items[3], &u), -1, "a fraction is not an integer");
	cr_expect_eq(lm_json_milli(v->items[3], &u), 0);
	cr_expect_eq(u, 1500);
	cr_expect_eq(lm_json_milli(v->items[4], &u), 0);
	cr_expect_eq(u, 1235, "rounded");
	cr_expect_eq(lm_json_milli(v->items[5], &u), 0);
	cr_expect_eq(u, 1);
	cr_expect_eq(lm_json_milli(v->items[6], &u), 0);
	cr_expect_eq(u, 7000);
	cr_expect_eq(lm_json_u64(v->items[7], &u), -1);
	cr_expect_eq(lm_json_milli(v->items[7], &u), -1);
	cr_expect_eq(lm_json_milli(v->items[8], &u), -1);
	cr_expect_eq(lm_json_u64(v->items[8], &u), -1);
	lm_json_free(v);
}

Test(json, errors_name_the_offset)
{
	cr_expect_eq(error_at(""), 0);
	cr_expect_eq(error_at("{\"a\":1,}"), 7);
	cr_expect_eq(error_at("{\"a\" 1}"), 5);
	cr_expect_eq(error_at("[1 2]"), 3);
	cr_expect_eq(error_at("[1, tru]"), 4);
	cr_expect_eq(error_at("[null]"), 1);
	cr_expect_eq(error_at("  \"abc"), 2);
	cr_expect_eq(error_at("[\"a\\x\"]"), 3);
	cr_expect_eq(error_at("[\"a\x01\"]"), 3);
	cr_expect_eq(error_at("[01]"), 1);
	cr_expect_eq(error_at("[1.]"), 1);
	cr_expect_eq(error_at("[-]"), 1);
	cr_expect_eq(error_at("\"\\ud83d\""), 1);
	cr_expect_eq(error_at("\"\\ude00\""), 1);
	cr_expect_eq(error_at("\"\\u0000\""), 1);
	cr_expect_eq(error_at("\"\\u12G4\""), 1);
	cr_expect_eq(error_at("{1:2}"), 1);
}

Test(json, nesting_is_bounded)
{
	char deep[4 * LM_JSON_MAX_DEPTH + 8];
	size_t n = 0;
	for (int i = 0; i < 2 * LM_JSON_MAX_DEPTH; i++)
		deep[n++] = '[';
	deep[n] = '\0';
	cr_expect_eq(error_at(deep), LM_JSON_MAX_DEPTH);

	char ok[2 * LM_JSON_MAX_DEPTH + 1];
	for (int i = 0; i < LM_JSON_MAX_DEPTH; i++) {
		ok[i] = '[';
		ok[2 * LM_JSON_MAX_DEPTH - 1 - i] = ']';
	}
	ok[2 * LM_JSON_MAX_DEPTH] = '\0';
	struct lm_json_err err;
	struct lm_json *v = parse(ok, &err);
	cr_expect_not_null(v, "%s", err.msg);
	lm_json_free(v);
}

Test(json, parse_moves_past_one_value)
{
	const char *text = "{\"a\":1}\n{\"b\":2}\n";
	size_t pos = 0;
	struct lm_json_err err;
	struct lm_json *a = lm_json_parse(text, strlen(text), &pos, &err);
	cr_assert_not_null(a);
	cr_expect_eq(pos, 7);
	struct lm_json *b = lm_json_parse(text, strlen(text), &pos, &err);
	cr_assert_not_null(b);
	cr_expect_not_null(lm_json_get(b, "b"));
	cr_expect_eq(pos, 15);
	lm_json_free(a);
	lm_json_free(b);
}

Test(json, random_bytes_never_crash)
{
	unsigned seed = 12345;
	static const char alphabet[] = "{}[]\",:\\u0123456789.-eE ab\n\x01\xff";
	for (int round = 0; round < 20000; round++) {
		char buf[64];
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof buf);
		for (size_t i = 0; i < len; i++)
			buf[i] = round & 1 ? (char)rand_r(&seed)
			                   : alphabet[rand_r(&seed) % (int)(sizeof alphabet - 1)];
		size_t pos = 0;
		struct lm_json_err err = {0};
		struct lm_json *v = lm_json_parse(buf, len, &pos, &err);
		if (v)
			cr_expect_leq(pos, len);
		else
			cr_expect_leq(err.offset, len);
		lm_json_free(v);
	}
}
