/* Reading dumps back into snapshots: the json renderer's output reads back
 * to the same snapshot, and damaged dumps are refused, never crash. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "cli/dump.h"
#include "helpers.h"

TestSuite(dump, .init = sample_setup);

Test(dump, json_round_trip_is_exact)
{
	char *text = render(&sample.s, LM_FMT_JSON, false);
	size_t pos = 0;
	struct lm_dump d;
	must_read(text, &pos, &d);
	cr_expect_eq(d.snap.pid, 4242);
	cr_expect_eq(d.snap.uptime_ms, 1230);
	cr_expect_str_eq(d.snap.program, "/usr/bin/perl");
	cr_assert_eq(d.snap.nmethods, 2);
	cr_expect_str_eq(d.snap.methods[1].object, sample.m[1].object);
	cr_expect_str_eq(d.snap.methods[1].mode, "verify");
	cr_expect_eq(memcmp(d.snap.methods[0].v, sample.m[0].v, sizeof sample.m[0].v), 0);
	cr_expect_eq(memcmp(d.snap.methods[1].v, sample.m[1].v, sizeof sample.m[1].v), 0);
	cr_assert_eq(d.snap.nwriters, 1);
	cr_expect_eq(d.snap.writers[0].dropped, 5);
	for (int fmt = LM_FMT_TEXT; fmt <= LM_FMT_PROM; fmt++) {
		char *a = render(&sample.s, (enum lm_stats_format)fmt, false);
		char *b = render(&d.snap, (enum lm_stats_format)fmt, false);
		cr_expect_str_eq(a, b);
		free(a);
		free(b);
	}
	lm_dump_free(&d);
	struct lm_json_err err = {0};
	cr_expect_eq(lm_dump_next(text, strlen(text), &pos, &d, &err), 0, "then the end");
	free(text);
}

Test(dump, several_dumps_one_per_line)
{
	char *text = two_dumps(&sample, 7);
	size_t pos = 0;
	struct lm_dump d;
	struct lm_json_err err = {0};
	must_read(text, &pos, &d);
	cr_expect_eq(d.snap.pid, 4242);
	lm_dump_free(&d);
	must_read(text, &pos, &d);
	cr_expect_eq(d.snap.pid, 7);
	lm_dump_free(&d);
	cr_expect_eq(lm_dump_next(text, strlen(text), &pos, &d, &err), 0);
	free(text);
}

static int read_one(const char *text, struct lm_json_err *err)
{
	size_t pos = 0;
	struct lm_dump d;
	int rc = lm_dump_next(text, strlen(text), &pos, &d, err);
	if (rc == 1)
		lm_dump_free(&d);
	return rc;
}

Test(dump, missing_or_mistyped_fields_are_named)
{
	char *text = render(&sample.s, LM_FMT_JSON, false);
	struct lm_json_err err = {0};

	char *p = strstr(text, "\"hits\":999");
	memcpy(p, "\"hitz\"", 6);
	cr_expect_eq(read_one(text, &err), -1);
	cr_expect(strstr(err.msg, "\"hits\"") != NULL, "%s", err.msg);
	memcpy(p, "\"hits\"", 6);

	p = strstr(text, "\"pid\":4242");
	memcpy(p + 6, "\"42\"", 4);
	cr_expect_eq(read_one(text, &err), -1);
	cr_expect(strstr(err.msg, "\"pid\"") != NULL, "%s", err.msg);
	cr_expect_eq(err.offset, (size_t)(p + 6 - text));
	free(text);

	cr_expect_eq(read_one("[1,2]", &err), -1);
	cr_expect_eq(read_one("  \n ", &err), 0);
}

Test(dump, truncation_at_every_offset_is_refused)
{
	char *text = render(&sample.s, LM_FMT_JSON, false);
	size_t len = strlen(text) - 1; /* without the newline */
	for (size_t cut = 1; cut < len; cut++) {
		char *part = strndup(text, cut);
		struct lm_json_err err = {0};
		cr_expect_eq(read_one(part, &err), -1, "cut at %zu", cut);
		cr_expect_leq(err.offset, cut);
		free(part);
	}
	free(text);
}

/* Damaged dumps: each is refused with an offset inside the text, or reads
 * to a snapshot that renders and reads back to itself. Both must occur. */
Test(dump, flipped_bytes_are_refused_or_read_consistently)
{
	char *text = render(&sample.s, LM_FMT_JSON, false);
	size_t len = strlen(text);
	unsigned seed = 99;
	int refused = 0, read = 0;
	for (int round = 0; round < 3000; round++) {
		char *t = strdup(text);
		for (int k = 0; k < 3; k++)
			t[(size_t)rand_r(&seed) % len] = (char)(rand_r(&seed) % 255 + 1);
		struct lm_json_err err = {0};
		size_t pos = 0;
		struct lm_dump d;
		int rc = lm_dump_next(t, len, &pos, &d, &err);
		if (rc == -1) {
			refused++;
			cr_expect_leq(err.offset, len, "round %d", round);
			cr_expect_neq(err.msg[0], 0, "round %d: a refusal says why", round);
		} else if (rc == 1) {
			read++;
			char *again = render(&d.snap, LM_FMT_JSON, false);
			struct lm_dump d2;
			size_t pos2 = 0;
			must_read(again, &pos2, &d2); /* what was read renders to a readable dump */
			char *third = render(&d2.snap, LM_FMT_JSON, false);
			cr_expect_str_eq(third, again, "round %d", round);
			free(third);
			lm_dump_free(&d2);
			free(again);
			lm_dump_free(&d);
		} else {
			cr_expect_fail("round %d: rc %d on a non-blank dump", round, rc);
		}
		free(t);
	}
	cr_expect_gt(refused, 0);
	cr_expect_gt(read, 0);
	free(text);
}

Test(dump, a_loss_reads_back_negative)
{
	sample.m[0].v[LM_SF_saved_ns] = (uint64_t) - (int64_t)42;
	char *text = render(&sample.s, LM_FMT_JSON, false);
	struct lm_dump d;
	size_t pos = 0;
	must_read(text, &pos, &d);
	cr_expect_eq((int64_t)d.snap.methods[0].v[LM_SF_saved_ns], -42);
	lm_dump_free(&d);
	free(text);
}
