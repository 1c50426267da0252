/* The three renderers on hand-made snapshots. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

Test(render_json, fields_in_the_order_of_the_spec)
{
	struct sample x;
	sample_init(&x);
	x.s.nmethods = 1;
	char *out = render(&x.s, LM_FMT_JSON, false);
	const char *want =
	    "{\"version\":\"0.1.0\",\"pid\":4242,\"program\":\"/usr/bin/perl\",\"uptime_s\":1.230,"
	    "\"backend\":\"local\",\"entries\":1,\"bytes\":176,"
	    "\"methods\":[{\"name\":\"crypt\",\"object\":\"/lib/libcrypt.so.1\","
	    "\"hook\":\"detour\",\"mode\":\"cache\",\"calls\":1000,\"hits\":999,\"misses\":1,"
	    "\"bypassed\":0,\"stored\":1004,\"stale\":1005,\"mismatches\":1006,"
	    "\"uncacheable\":1007,\"coalesced\":1008,\"shared_hits\":1009,\"expired\":1010,"
	    "\"evicted\":1011,\"invalidated\":1012,\"entries\":1013,\"bytes\":176,"
	    "\"miss_ns\":21000000,\"saved_ns\":20979000000,\"negative\":1017}],"
	    "\"invalidators\":[{\"name\":\"update_user\",\"object\":\"/usr/lib/libuserdb.so\","
	    "\"hook\":\"detour\",\"calls\":3,\"dropped\":5}]}\n";
	cr_expect_str_eq(out, want);
	free(out);
}

Test(render_json, escapes_strings)
{
	struct sample x;
	sample_init(&x);
	x.m[1].name = "a\tb";
	char *out = render(&x.s, LM_FMT_JSON, false);
	cr_expect(strstr(out, "\"object\":\"/usr/lib/lib\\\"user\\\"\\\\db.so\"") != NULL, "%s",
	          out);
	cr_expect(strstr(out, "\"name\":\"a\\u0009b\"") != NULL, "%s", out);
	free(out);
}

Test(render_json, empty_lists)
{
	struct sample x;
	sample_init(&x);
	x.s.nmethods = 0;
	x.s.nwriters = 0;
	char *out = render(&x.s, LM_FMT_JSON, false);
	cr_expect(strstr(out, "\"methods\":[],\"invalidators\":[]}\n") != NULL, "%s", out);
	free(out);
}

Test(render_prom, counters_end_in_total_and_gauges_do_not)
{
	struct sample x;
	sample_init(&x);
	char *out = render(&x.s, LM_FMT_PROM, false);
	cr_expect(strstr(out, "# TYPE ldmemo_calls_total counter\n") != NULL, "%s", out);
	cr_expect(strstr(out, "\nldmemo_calls_total{method=\"crypt\",program=\"/usr/bin/perl\"} "
	                      "1000\n") != NULL,
	          "%s", out);
	cr_expect(strstr(out, "\nldmemo_saved_ns_total{method=\"crypt\",program=\"/usr/bin/perl\"} "
	                      "20979000000\n") != NULL,
	          "%s", out);
	cr_expect(strstr(out, "# TYPE ldmemo_entries gauge\n") != NULL, "%s", out);
	cr_expect(strstr(out, "\nldmemo_bytes{method=\"get_user\",program=\"/usr/bin/perl\"} "
	                      "3145728\n") != NULL,
	          "%s", out);
	cr_expect(strstr(out, "ldmemo_entries_total") == NULL, "%s", out);
	cr_expect(strstr(out, "ldmemo_bytes_total") == NULL, "%s", out);
	cr_expect(strstr(out, "\nldmemo_writer_dropped_total{method=\"update_user\","
	                      "program=\"/usr/bin/perl\"} 5\n") != NULL,
	          "%s", out);
	free(out);
}

Test(render_prom, every_field_once_per_method)
{
	struct sample x;
	sample_init(&x);
	char *out = render(&x.s, LM_FMT_PROM, false);
	for (int f = 0; f < LM_SF_COUNT; f++) {
		char name[64];
		snprintf(name, sizeof name, "\nldmemo_%s%s{", lm_snap_field_name[f],
		         lm_snap_field_gauge[f] ? "" : "_total");
		int n = 0;
		for (const char *p = strstr(out, name); p; p = strstr(p + 1, name))
			n++;
		cr_expect_eq(n, 2, "%s appears %d times", name + 1, n);
	}
	free(out);
}

Test(render_prom, label_values_escaped_as_the_format_says)
{
	struct sample x;
	sample_init(&x);
	x.s.program = "/opt/a\"b\\c\nd";
	char *out = render(&x.s, LM_FMT_PROM, false);
	cr_expect(strstr(out, "program=\"/opt/a\\\"b\\\\c\\nd\"") != NULL, "%s", out);
	free(out);
}

Test(render_text, title_and_header)
{
	struct sample x;
	sample_init(&x);
	char *out = render(&x.s, LM_FMT_TEXT, false);
	char *title = line_starting(out, "ldmemo[");
	cr_assert(title != NULL, "%s", out);
	cr_expect_str_eq(title, "ldmemo[4242]: statistics for /usr/bin/perl: up 1.23 s, backend "
	                        "local, 1 entry, 176 B");
	free(title);
	char *head = line_starting(out, "method ");
	cr_assert(head != NULL, "%s", out);
	const char *cols[] = {"method", "hook",     "calls",   "hits",   "hit%",  "misses",
	                      "stored", "negative", "entries", "memory", "saved", "miss time"};
	const char *p = head;
	for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
		const char *q = strstr(p, cols[i]);
		cr_expect(q != NULL, "column %s in order: %s", cols[i], head);
		p = q ? q + strlen(cols[i]) : p;
	}
	free(head);
	free(out);
}

Test(render_text, rows_in_human_units)
{
	struct sample x;
	sample_init(&x);
	char *out = render(&x.s, LM_FMT_TEXT, false);
	char *row = line_starting(out, "crypt ");
	cr_assert(row != NULL, "%s", out);
	cr_expect(strstr(row, " detour ") && strstr(row, " 1000 ") && strstr(row, " 999 "), "%s",
	          row);
	cr_expect(strstr(row, " 99.9% ") != NULL, "%s", row);
	cr_expect(strstr(row, " 176 B ") != NULL, "%s", row);
	cr_expect(strstr(row, " 20.98 s ") != NULL, "%s", row);
	cr_expect(strstr(row, " 21.0 ms") != NULL, "%s", row);
	free(row);
	row = line_starting(out, "get_user ");
	cr_assert(row != NULL, "%s", out);
	cr_expect(strstr(row, " 66.7% ") && strstr(row, " 3.0 MiB "), "%s", row);
	free(row);
	free(out);
}

Test(render_text, columns_line_up)
{
	struct sample x;
	sample_init(&x);
	x.m[1].name = "a_much_longer_method_name";
	char *out = render(&x.s, LM_FMT_TEXT, false);
	char *head = line_starting(out, "method ");
	char *r0 = line_starting(out, "crypt ");
	char *r1 = line_starting(out, "a_much_longer_method_name ");
	cr_assert(head && r0 && r1, "%s", out);
	/* The last column is right-aligned: every line of the table has
	 * the same length, and the hook column starts at the same place. */
	cr_expect_eq(strlen(head), strlen(r0), "%s\n%s", head, r0);
	cr_expect_eq(strlen(head), strlen(r1), "%s\n%s", head, r1);
	cr_expect_eq(strstr(head, "hook") - head, strstr(r0, "detour") - r0);
	cr_expect_eq(strstr(head, "hook") - head, strstr(r1, "got") - r1);
	free(head);
	free(r0);
	free(r1);
	free(out);
}

Test(render_text, no_calls_shows_a_dash)
{
	struct sample x;
	sample_init(&x);
	memset(x.m[0].v, 0, sizeof x.m[0].v);
	char *out = render(&x.s, LM_FMT_TEXT, false);
	char *row = line_starting(out, "crypt ");
	cr_assert(row != NULL, "%s", out);
	cr_expect(strstr(row, " - ") != NULL, "%s", row);
	free(row);
	free(out);
}

Test(render_text, verify_and_write_function_lines)
{
	struct sample x;
	sample_init(&x);
	char *out = render(&x.s, LM_FMT_TEXT, false);
	cr_expect(strstr(out, "\nverify get_user: 1 mismatches in 2 would-be hits\n") != NULL, "%s",
	          out);
	cr_expect(strstr(out, "\nverify crypt") == NULL, "%s", out);
	cr_expect(strstr(out, "\nwrite function update_user (detour): 3 calls, 5 entries "
	                      "dropped\n") != NULL,
	          "%s", out);
	free(out);
}

Test(render_text, colour_only_when_asked)
{
	struct sample x;
	sample_init(&x);
	char *plain = render(&x.s, LM_FMT_TEXT, false);
	char *colour = render(&x.s, LM_FMT_TEXT, true);
	cr_expect(strchr(plain, '\033') == NULL, "%s", plain);
	cr_expect(strstr(colour, "\033[1m") != NULL && strstr(colour, "\033[0m") != NULL);
	char *json = render(&x.s, LM_FMT_JSON, true);
	cr_expect(strchr(json, '\033') == NULL, "colour never reaches json");
	free(json);
	free(plain);
	free(colour);
}

/* Fixed decimals keep their leading zeros: 1.005 s is not "1.05" (a
 * renderer that dropped one printed exactly that). Prometheus prints
 * integers only, so text and JSON are the formats with decimals. */
Test(render_json, fixed_decimals_keep_their_leading_zeros)
{
	const struct {
		uint64_t ms;
		const char *want;
	} cases[] = {{1005, "\"uptime_s\":1.005,"},
	             {1050, "\"uptime_s\":1.050,"},
	             {1000, "\"uptime_s\":1.000,"},
	             {1, "\"uptime_s\":0.001,"},
	             {60009, "\"uptime_s\":60.009,"}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sample x;
		sample_init(&x);
		x.s.uptime_ms = cases[i].ms;
		char *out = render(&x.s, LM_FMT_JSON, false);
		cr_expect(strstr(out, cases[i].want) != NULL, "%s in %s", cases[i].want, out);
		free(out);
	}
}

Test(render_text, fixed_decimals_keep_their_leading_zeros)
{
	struct sample x;
	sample_init(&x);
	x.s.uptime_ms = 1040;
	x.m[0].v[LM_SF_miss_ns] = 2004000000; /* 2.00 s: rounds to two decimals */
	x.m[0].v[LM_SF_saved_ns] = 3040000000;
	char *out = render(&x.s, LM_FMT_TEXT, false);
	char *title = line_starting(out, "ldmemo[");
	cr_assert(title != NULL, "%s", out);
	cr_expect(strstr(title, " up 1.04 s,") != NULL, "%s", title);
	free(title);
	char *row = line_starting(out, "crypt ");
	cr_assert(row != NULL, "%s", out);
	cr_expect(strstr(row, " 3.04 s ") != NULL, "%s", row);
	cr_expect(strstr(row, " 2.00 s") != NULL, "%s", row);
	free(row);
	free(out);
}

Test(render_prom, counters_are_exact_integers)
{
	struct sample x;
	sample_init(&x);
	x.m[0].v[LM_SF_miss_ns] = 1000000005;
	char *out = render(&x.s, LM_FMT_PROM, false);
	cr_expect(strstr(out, " 1000000005\n") != NULL, "%s", out);
	free(out);
}

/* A loss is shown as one, in every format, and read back by `stats`. */
Test(render_text, a_negative_saving_is_a_loss)
{
	struct sample x;
	sample_init(&x);
	x.m[0].v[LM_SF_saved_ns] = (uint64_t) - (int64_t)1500000;
	char *out = render(&x.s, LM_FMT_TEXT, false);
	char *row = line_starting(out, "crypt ");
	cr_assert(row != NULL, "%s", out);
	cr_expect(strstr(row, " loss 1.5 ms ") != NULL, "%s", row);
	free(row);
	free(out);
	out = render(&x.s, LM_FMT_JSON, false);
	cr_expect(strstr(out, "\"saved_ns\":-1500000,") != NULL, "%s", out);
	free(out);
	out = render(&x.s, LM_FMT_PROM, false);
	cr_expect(strstr(out, "crypt\",program=\"/usr/bin/perl\"} -1500000\n") != NULL, "%s", out);
	free(out);
}

/* 999999 hits in a million calls round to 100.0%: shown as 99.9%. */
Test(render_text, no_full_hit_ratio_while_there_are_misses)
{
	struct sample x;
	sample_init(&x);
	x.m[0].v[LM_SF_calls] = 1000000;
	x.m[0].v[LM_SF_hits] = 999999;
	char *out = render(&x.s, LM_FMT_TEXT, false);
	char *row = line_starting(out, "crypt ");
	cr_assert(row != NULL, "%s", out);
	cr_expect(strstr(row, " 99.9% ") != NULL, "%s", row);
	free(row);
	free(out);
}

Test(render_json, the_host_tier_when_on)
{
	struct sample x;
	sample_init(&x);
	x.s.host = true;
	x.s.host_size = 1 << 20;
	x.s.host_entries = 7;
	x.s.host_evictions = 3;
	char *out = render(&x.s, LM_FMT_JSON, false);
	cr_expect(strstr(out, "\"bytes\":176,\"host\":{\"size\":1048576,\"entries\":7,"
	                      "\"evictions\":3},\"methods\":[") != NULL,
	          "%s", out);
	free(out);
	out = render(&x.s, LM_FMT_PROM, false);
	cr_expect(strstr(out, "\nldmemo_host_entries{program=\"/usr/bin/perl\"} 7\n") != NULL, "%s",
	          out);
	free(out);
	out = render(&x.s, LM_FMT_TEXT, false);
	cr_expect(strstr(out, "; host tier 1.0 MiB, 7 entries, 3 evicted\n") != NULL, "%s", out);
	free(out);
}
