#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/ops/stats_format.h"

void sample_init(struct sample *x)
{
	memset(x, 0, sizeof *x);
	x->m[0] = (struct lm_snap_method){
	    .name = "crypt", .object = "/lib/libcrypt.so.1", .hook = "detour", .mode = "cache"};
	x->m[1] = (struct lm_snap_method){.name = "get_user",
	                                  .object = "/usr/lib/lib\"user\"\\db.so",
	                                  .hook = "got",
	                                  .mode = "verify"};
	for (int f = 0; f < LM_SF_COUNT; f++) {
		x->m[0].v[f] = 1000 + (uint64_t)f;
		x->m[1].v[f] = 2000 + (uint64_t)f;
	}
	x->m[0].v[LM_SF_calls] = 1000;
	x->m[0].v[LM_SF_hits] = 999;
	x->m[0].v[LM_SF_misses] = 1;
	x->m[0].v[LM_SF_bypassed] = 0;
	x->m[0].v[LM_SF_bytes] = 176;
	x->m[0].v[LM_SF_miss_ns] = 21000000;
	x->m[0].v[LM_SF_saved_ns] = 20979000000;
	x->m[1].v[LM_SF_calls] = 3;
	x->m[1].v[LM_SF_hits] = 2;
	x->m[1].v[LM_SF_misses] = 1;
	x->m[1].v[LM_SF_bypassed] = 0;
	x->m[1].v[LM_SF_mismatches] = 1;
	x->m[1].v[LM_SF_bytes] = 3 << 20;
	x->w[0] = (struct lm_snap_writer){.name = "update_user",
	                                  .object = "/usr/lib/libuserdb.so",
	                                  .hook = "detour",
	                                  .calls = 3,
	                                  .dropped = 5};
	x->s = (struct lm_snapshot){.version = "0.1.0",
	                            .program = "/usr/bin/perl",
	                            .backend = "local",
	                            .pid = 4242,
	                            .uptime_ms = 1230,
	                            .entries = 1,
	                            .bytes = 176,
	                            .methods = x->m,
	                            .nmethods = 2,
	                            .writers = x->w,
	                            .nwriters = 1};
}

struct sample sample;

void sample_setup(void)
{
	sample_init(&sample);
}

char *render(const struct lm_snapshot *s, enum lm_stats_format fmt, bool colour)
{
	FILE *f = tmpfile();
	cr_assert(f != NULL);
	cr_assert_eq(lm_stats_render(s, fileno(f), fmt, colour), 0);
	long len = lseek(fileno(f), 0, SEEK_END);
	cr_assert(len >= 0);
	char *buf = calloc(1, (size_t)len + 1);
	cr_assert_eq(pread(fileno(f), buf, (size_t)len, 0), len);
	fclose(f);
	return buf;
}

char *line_starting(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, prefix, n) == 0) {
			const char *e = strchr(p, '\n');
			return strndup(p, e ? (size_t)(e - p) : strlen(p));
		}
	}
	return NULL;
}

char *row_of(const char *text, const char *prefix)
{
	char *row = line_starting(text, prefix);
	cr_assert(row != NULL, "no line starting '%s' in:\n%s", prefix, text);
	return row;
}

void expect_has(const char *text, const char *want)
{
	cr_expect(strstr(text, want) != NULL, "no '%s' in:\n%s", want, text);
}

char *two_dumps(struct sample *x, int pid)
{
	char *a = render(&x->s, LM_FMT_JSON, false);
	x->s.pid = pid;
	char *b = render(&x->s, LM_FMT_JSON, false), *both;
	cr_assert(asprintf(&both, "%s%s", a, b) > 0);
	free(a);
	free(b);
	return both;
}

void must_read(const char *text, size_t *pos, struct lm_dump *d)
{
	struct lm_json_err err = {0};
	cr_assert_eq(lm_dump_next(text, strlen(text), pos, d, &err), 1, "%s at %zu", err.msg,
	             err.offset);
}
