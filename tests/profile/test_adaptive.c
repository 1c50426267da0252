/* Adaptive bypass: the decision on numbers, and in a real run a trivial
 * function steps aside while one that spins a millisecond stays cached;
 * `adaptive = off`, globally or for the method, keeps it cached. No timing
 * is asserted: the contrast is a thousandfold. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "shim/call/adaptive.h"

Test(adaptive, judge_cheap_and_expensive)
{
	struct lm_adaptive_window cheap = {
	    .hits = 0, .misses = 64, .miss_ns = 64 * 5, .cost_ns = 64 * 300};
	struct lm_adaptive_window dear = {
	    .hits = 0, .misses = 64, .miss_ns = 64 * 1000000, .cost_ns = 64 * 300};
	cr_assert_eq(lm_adaptive_judge(&cheap, 50), LM_ADAPT_CHEAP);
	cr_assert_eq(lm_adaptive_judge(&dear, 50), LM_ADAPT_WAIT, "warming up");
	dear.hits = 2000;
	cr_assert_eq(lm_adaptive_judge(&dear, 50), LM_ADAPT_KEEP);
}

Test(adaptive, judge_hit_ratio)
{
	/* 500 ns calls, 1 us of ldmemo per miss: 1% hits do not pay, 90% do */
	struct lm_adaptive_window w = {
	    .hits = 20, .misses = 2000, .miss_ns = 2000 * 500, .cost_ns = 2000 * 1000};
	cr_assert_eq(lm_adaptive_judge(&w, 50), LM_ADAPT_NO_PAY);
	w.hits = 18000;
	cr_assert_eq(lm_adaptive_judge(&w, 50), LM_ADAPT_KEEP);
	w.misses = 10;
	cr_assert_eq(lm_adaptive_judge(&w, 50), LM_ADAPT_WAIT, "too few misses to say");
}

Test(adaptive, judge_a_loaded_machine)
{
	/* preempted calls make the mean 2.4 lookups; the fastest call is
	 * below the fastest lookup: cheap all the same */
	struct lm_adaptive_window w = {
	    .misses = 64, .miss_ns = 64 * 120, .cost_ns = 64 * 300, .min_call_ns = 12};
	cr_assert_eq(lm_adaptive_judge(&w, 50), LM_ADAPT_CHEAP);
	w.min_call_ns = 80; /* never faster than a lookup: not judged cheap */
	cr_assert_eq(lm_adaptive_judge(&w, 50), LM_ADAPT_WAIT);
}

/* One call preempted for 10 ms among 64 of 45 ns: its mean is 156 us,
 * its typical time 45 ns. Before, the mean decided: not cheap, and the
 * method stayed cached (a 0.88x round of the gawk log/exp benchmark). */
Test(adaptive, judge_a_preempted_call_by_the_typical_time)
{
	uint32_t s[LM_ADAPT_SAMPLES];
	for (unsigned i = 0; i < LM_ADAPT_SAMPLES; i++)
		s[i] = 45;
	s[7] = 10000000;
	cr_assert_eq(lm_adaptive_typical(s, LM_ADAPT_SAMPLES), 45);
	cr_assert_eq(lm_adaptive_typical(s, LM_ADAPT_SAMPLES / 2 - 1), 0, "too few samples");
	struct lm_adaptive_window w = {.misses = 64,
	                               .miss_ns = 63 * 45 + 10000000,
	                               .cost_ns = 64 * 300,
	                               .min_call_ns = 45,
	                               .typical_call_ns = 45};
	cr_assert_eq(lm_adaptive_judge(&w, 50), LM_ADAPT_CHEAP);
	/* a slow function stays cached whatever its typical time says */
	w = (struct lm_adaptive_window){.hits = 4000,
	                                .misses = 1000,
	                                .miss_ns = 1000 * 100000ull,
	                                .cost_ns = 1000 * 300,
	                                .min_call_ns = 90000,
	                                .typical_call_ns = 100000};
	cr_assert_eq(lm_adaptive_judge(&w, 50), LM_ADAPT_KEEP);
}

static const char *methods = "[cache cheap_add]\nsignature = i64 cheap_add(i64 k)\n%s\n"
                             "[cache slow_spin]\nsignature = i64 slow_spin(i64 k)\n";

/* Run prog-adapt under CONF; its output and the JSON statistics. */
static void run(const char *global, const char *cheap_extra, char **out, char **json)
{
	const char *dir = pf_tmpdir();
	char conf[128], stats[128], env_conf[160], env_stats[160], env_shim[1100];
	snprintf(conf, sizeof conf, "%s/a.conf", dir);
	snprintf(stats, sizeof stats, "%s/s.json", dir);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fputs(global, f);
	fprintf(f, methods, cheap_extra);
	fclose(f);
	snprintf(env_conf, sizeof env_conf, "LDMEMO_CONFIG=%s", conf);
	snprintf(env_stats, sizeof env_stats, "LDMEMO_STATS=%s", stats);
	snprintf(env_shim, sizeof env_shim, "LD_PRELOAD=%s", pf_build("libldmemo.so"));
	const char *argv[] = {pf_fixture("prog-adapt"), NULL};
	const char *env[] = {env_conf, env_stats, env_shim, "LDMEMO_STATS_FORMAT=json", NULL};
	cr_assert_eq(pf_run(argv, env, out, NULL), 0);
	*json = pf_slurp(stats);
	cr_assert_not_null(*json);
	unlink(conf);
	unlink(stats);
	rmdir(dir);
}

/* The "mode" of method NAME in JSON. */
static char *mode_of(const char *json, const char *name)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"name\":\"%s\"", name);
	const char *p = strstr(json, pat);
	cr_assert_not_null(p, "%s in the statistics", name);
	p = strstr(p, "\"mode\":\"");
	cr_assert_not_null(p);
	p += 8;
	return strndup(p, strcspn(p, "\""));
}

Test(adaptive, steps_aside_for_the_cheap_one_only, .timeout = 120)
{
	char *plain = NULL, *out, *json;
	const char *argv[] = {pf_fixture("prog-adapt"), NULL};
	cr_assert_eq(pf_run(argv, NULL, &plain, NULL), 0);
	run("", "", &out, &json);
	cr_assert_str_eq(out, plain);
	char *cheap = mode_of(json, "cheap_add"), *slow = mode_of(json, "slow_spin");
	cr_assert_str_eq(cheap, "bypass", "%s", json);
	cr_assert_str_eq(slow, "cache", "%s", json);
	free(cheap);
	free(slow);
	free(out);
	free(json);

	run("[global]\nadaptive = off\n", "", &out, &json);
	cr_assert_str_eq(out, plain);
	cheap = mode_of(json, "cheap_add");
	cr_assert_str_eq(cheap, "cache", "[global] adaptive = off");
	free(cheap);
	free(out);
	free(json);

	run("", "adaptive = off\n", &out, &json);
	cheap = mode_of(json, "cheap_add");
	cr_assert_str_eq(cheap, "cache", "the method's own adaptive = off");
	free(cheap);
	free(out);
	free(json);
	free(plain);
}

/* The number FIELD of method NAME in JSON. */
static long long field_of(const char *json, const char *name, const char *field)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"name\":\"%s\"", name);
	const char *p = strstr(json, pat);
	cr_assert_not_null(p, "%s in the statistics", name);
	snprintf(pat, sizeof pat, "\"%s\":", field);
	p = strstr(p, pat);
	cr_assert_not_null(p, "%s of %s", field, name);
	return atoll(p + strlen(pat));
}

/* Calls made while the method stepped aside go through the hook's counting
 * stub: every one of prog-adapt's 100000 calls of cheap_add is counted,
 * whether the hook is a detour or GOT slots. Before: the calls after the
 * step aside were not seen (calls < 100000). */
Test(adaptive, bypassed_calls_are_counted, .timeout = 120)
{
	static const char *const hooks[] = {"", "hook = got\n"};
	for (size_t i = 0; i < sizeof hooks / sizeof *hooks; i++) {
		char *out, *json;
		run("", hooks[i], &out, &json);
		char *cheap = mode_of(json, "cheap_add");
		cr_assert_str_eq(cheap, "bypass", "%s%s", hooks[i], json);
		cr_expect_eq(field_of(json, "cheap_add", "calls"), 100000, "%s%s", hooks[i], json);
		cr_expect_gt(field_of(json, "cheap_add", "bypassed"), 50000, "%s%s", hooks[i],
		             json);
		cr_expect_eq(field_of(json, "slow_spin", "calls"), 200, "%s", json);
		free(cheap);
		free(out);
		free(json);
	}
}

/* prog-adapt ARG under a config of cheap_add alone (EXTRA appended to its
 * section), with the debug log: its output and its log. */
static void run_cheap_add_alone(const char *extra, const char *arg, char **out, char **err)
{
	const char *dir = pf_tmpdir();
	char conf[128], env_conf[160], env_shim[1100];
	snprintf(conf, sizeof conf, "%s/a.conf", dir);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "[cache cheap_add]\nsignature = i64 cheap_add(i64 k)\n%s", extra);
	fclose(f);
	snprintf(env_conf, sizeof env_conf, "LDMEMO_CONFIG=%s", conf);
	snprintf(env_shim, sizeof env_shim, "LD_PRELOAD=%s", pf_build("libldmemo.so"));
	const char *argv[] = {pf_fixture("prog-adapt"), arg, NULL};
	const char *env[] = {env_conf, env_shim, "LDMEMO_LOG=debug", NULL};
	cr_assert_eq(pf_run(argv, env, out, err), 0, "%s", *err);
	unlink(conf);
	rmdir(dir);
}

/* A method that stepped aside is sampled again by its own calls: one in
 * 65,536 of its bypassed calls runs the re-sampling tick. Before, only a
 * miss of some method ran it, and a program whose every method stepped
 * aside never saw one again ("sampled again in 1 s" never happened). Both
 * kinds of hook, prog-adapt calling cheap_add alone for 1.5 s. */
Test(adaptive, a_bypassed_method_alone_is_sampled_again, .timeout = 120)
{
	static const char *const hooks[] = {"", "hook = got\n"};
	for (size_t i = 0; i < sizeof hooks / sizeof *hooks; i++) {
		char *out = NULL, *err = NULL;
		run_cheap_add_alone(hooks[i], "1500", &out, &err);
		cr_expect_str_eq(out, "done\n");
		cr_expect(strstr(err, "cheap_add: not cached for now (adaptive)") != NULL, "%s%s",
		          hooks[i], err);
		cr_expect(strstr(err, "cheap_add: hooked again for a sample (adaptive)") != NULL,
		          "%s%s", hooks[i], err);
		free(out);
		free(err);
	}
}

/* ...but not from a signal handler: the tick may rewrite hooks and take
 * the loader's and the shim's locks, which a handler must not (it ran
 * there before: a handler's 65,536th bypassed call re-hooked the method). */
Test(adaptive, no_sample_is_taken_in_a_signal_handler, .timeout = 120)
{
	char *out = NULL, *err = NULL;
	run_cheap_add_alone("", "handler", &out, &err);
	cr_expect_str_eq(out, "done\n");
	cr_expect(strstr(err, "cheap_add: not cached for now (adaptive)") != NULL, "%s", err);
	cr_expect_null(strstr(err, "hooked again for a sample"), "%s", err);
	free(out);
	free(err);
}
