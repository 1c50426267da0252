/* `ldmemo ctl PID keys METHOD [--limit N]` (issue 20): a live process's
 * keys rendered by their parameter kinds, with age and time left; and the
 * value reader `ctl invalidate` shares with a config's `drop`. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

static const struct fx_opts on = {.control = true};

#define CTL(pid, ...) run_ctl(pid, (const char *const[]){__VA_ARGS__, NULL})

static size_t lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

Test(keys, lists_each_key_by_kind_with_age_and_ttl)
{
	struct fx f;
	fx_start(&f, &on);
	fx_cmd(&f, "lookup bob 2");
	fx_cmd(&f, "lookup ann -1");
	struct run r = CTL(f.pid, "keys", "ctl_lookup");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.out, "ctl_lookup(\"bob\", 2)  age ") != NULL, "%s", r.out);
	cr_expect(strstr(r.out, "ctl_lookup(\"ann\", -1)  age ") != NULL, "%s", r.out);
	/* The default TTL is 5 minutes: both have about that long left. */
	cr_expect(strstr(r.out, "ttl left 29") != NULL || strstr(r.out, "ttl left 300s") != NULL ||
	              strstr(r.out, "ttl left 4m") != NULL || strstr(r.out, "ttl left 5m") != NULL,
	          "%s", r.out);
	cr_expect(strstr(r.out, "2 entries, 2 shown\n") != NULL, "%s", r.out);
	cr_expect_null(strstr(r.out, "ctl_square"), "%s", r.out);
	run_free(&r);
	r = CTL(f.pid, "keys", "ctl_lookup", "--limit", "1");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(lines(r.out), 2, "%s", r.out);
	cr_expect(strstr(r.out, "2 entries, 1 shown\n") != NULL, "%s", r.out);
	run_free(&r);
	r = CTL(f.pid, "keys", "no_such");
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "no cached method 'no_such'") != NULL, "%s", r.err);
	run_free(&r);
	r = CTL(f.pid, "keys", "ctl_lookup", "--limit", "x");
	cr_expect_eq(r.status, 2);
	run_free(&r);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}

/* 99999999999999999999999 was "a float value"; it is an integer out of
 * range, said as the config says it. */
Test(keys, integer_out_of_range_is_said_as_such)
{
	struct fx f;
	fx_start(&f, &on);
	struct run r = CTL(f.pid, "invalidate", "ctl_square", "99999999999999999999999");
	cr_expect_eq(r.status, 1);
	cr_expect(strstr(r.err, "integer '99999999999999999999999' out of range") != NULL, "%s",
	          r.err);
	cr_expect_null(strstr(r.err, "float"), "%s", r.err);
	run_free(&r);
	cr_expect_eq(fx_quit(&f), 0);
	fx_cleanup(&f);
}
