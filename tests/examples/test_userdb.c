/* The demo's example service (examples/userdb) replayed with and without
 * the shim and its config examples/userdb/userdb.conf: the answers must be
 * the same, and a rename must reach the readers through the cache. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIN "build/tests/examples/"

static const char gen_bin[] = BIN "gen", replay_bin[] = BIN "replay";

struct replay {
	int status;
	char *out;
	char *stats; /* JSON dump; empty without the shim */
};

/* Replays LOG against a fresh copy of DIR/users.db, under the shim when
 * SHIM is set. */
static struct replay replay(const char *dir, const char *log_path, int shim)
{
	char log[600]; /* LOG_PATH may be an ex_path buffer, reused below */
	snprintf(log, sizeof log, "%s", log_path);
	ex_copy(ex_path(dir, "users.db"), ex_path(dir, "run.db"));
	ex_write(ex_path(dir, "stats.json"), "");
	char db[600], preload[600], config[600], stats[600];
	snprintf(db, sizeof db, "USERDB_PATH=%s", ex_path(dir, "run.db"));
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s/build/libldmemo.so", getenv("PWD"));
	snprintf(config, sizeof config, "LDMEMO_CONFIG=%s/examples/userdb/userdb.conf",
	         getenv("PWD"));
	snprintf(stats, sizeof stats, "LDMEMO_STATS=%s", ex_path(dir, "stats.json"));
	const char *bare_env[] = {db, NULL};
	/* Strict: a method the shim could not hook fails the run instead of
	 * passing uncached. */
	const char *shim_env[] = {
	    db, preload, config, stats, "LDMEMO_STATS_FORMAT=json", "LDMEMO_STRICT=1", NULL};
	const char *argv[] = {replay_bin, log, NULL};
	struct replay r;
	r.status =
	    ex_run(ex_path(dir, "out"), ex_path(dir, "err"), argv, shim ? shim_env : bare_env);
	r.out = ex_slurp(ex_path(dir, "out"));
	r.stats = ex_slurp(ex_path(dir, "stats.json"));
	if (r.status != 0) {
		char *err = ex_slurp(ex_path(dir, "err"));
		cr_log_error("replay (shim %d) exited %d: %s", shim, r.status, err);
		free(err);
	}
	return r;
}

static void replay_free(struct replay *r)
{
	free(r->out);
	free(r->stats);
}

/* Line N (1-based) of TEXT, in a static buffer. */
static const char *line_of(const char *text, int n)
{
	static char buf[1024];
	const char *p = text;
	for (int i = 1; i < n && p; i++)
		p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
	cr_assert(p && *p, "no line %d", n);
	size_t len = strcspn(p, "\n");
	snprintf(buf, sizeof buf, "%.*s", (int)len, p);
	return buf;
}

/* The outputs are equal; else reports the first line where they part. */
static void expect_same(const char *memo, const char *bare)
{
	size_t i = 0;
	int line = 1;
	while (memo[i] && memo[i] == bare[i])
		line += memo[i++] == '\n';
	if (!memo[i] && !bare[i])
		return;
	char *m = strdup(line_of(memo, line));
	cr_expect_fail("outputs part at line %d: with the shim \"%s\", without \"%s\"", line, m,
	               line_of(bare, line));
	free(m);
}

static void gen(const char *dir, const char *users, const char *requests)
{
	const char *argv[] = {
	    gen_bin, ex_path(dir, "users.db"), ex_path(dir, "requests.log"), users, requests, "7",
	    NULL};
	cr_assert_eq(ex_run(ex_path(dir, "out"), ex_path(dir, "err"), argv, NULL), 0, "gen");
}

Test(userdb, generated_log_replays_byte_identical_under_the_shim)
{
	char *dir = ex_mkdir();
	gen(dir, "300", "4000");
	char log[600];
	snprintf(log, sizeof log, "%s", ex_path(dir, "requests.log"));
	struct replay bare = replay(dir, log, 0), memo = replay(dir, log, 1);
	cr_assert_eq(bare.status, 0);
	cr_assert_eq(memo.status, 0);
	cr_expect(strstr(bare.out, ": ok\n") != NULL, "the log renames users");
	expect_same(memo.out, bare.out);
	/* The cache was in play, or the comparison proves nothing. */
	cr_expect_gt(ex_stat(memo.stats, "get_user", "hits"), 0, "%s", memo.stats);
	cr_expect_gt(ex_stat(memo.stats, "user_name", "hits"), 0, "%s", memo.stats);
	cr_expect_gt(ex_stat(memo.stats, "update_user", "dropped"), 0, "%s", memo.stats);
	replay_free(&bare);
	replay_free(&memo);
	ex_rmdir(dir);
}

Test(userdb, rename_reaches_readers_of_cached_record_name_and_listing)
{
	char *dir = ex_mkdir();
	gen(dir, "200", "10");
	/* Learn user 1's department first: user 1 heads its listing. */
	ex_write(ex_path(dir, "probe.log"), "get 1\n");
	struct replay probe = replay(dir, ex_path(dir, "probe.log"), 0);
	cr_assert_eq(probe.status, 0);
	const char *since = strstr(probe.out, " since ");
	cr_assert(since != NULL, "%s", probe.out);
	const char *d = since;
	while (d > probe.out && d[-1] != ' ')
		d--;
	char log[512];
	snprintf(log, sizeof log,
	         "dept %.*s\nname 1\nget 1\n"
	         "dept %.*s\nname 1\nget 1\n"
	         "update 1 Aaron Zed\n"
	         "name 1\nget 1\ndept %.*s\n",
	         (int)(since - d), d, (int)(since - d), d, (int)(since - d), d);
	ex_write(ex_path(dir, "requests.log"), log);

	struct replay bare = replay(dir, ex_path(dir, "requests.log"), 0);
	struct replay memo = replay(dir, ex_path(dir, "requests.log"), 1);
	cr_assert_eq(bare.status, 0);
	cr_assert_eq(memo.status, 0);
	/* Requests 4-6 repeat 1-3: answered from the cache. */
	cr_expect_eq(ex_stat(memo.stats, "list_users_by_dept", "hits"), 1, "%s", memo.stats);
	cr_expect_eq(ex_stat(memo.stats, "user_name", "hits"), 1, "%s", memo.stats);
	cr_expect_eq(ex_stat(memo.stats, "get_user", "hits"), 1, "%s", memo.stats);
	cr_expect_str_eq(line_of(memo.out, 7), "update 1 Aaron Zed: ok");
	cr_expect_str_eq(line_of(memo.out, 8), "name 1: Aaron Zed");
	cr_expect(strncmp(line_of(memo.out, 9), "get 1: Aaron Zed <", 18) == 0, "%s",
	          line_of(memo.out, 9));
	cr_expect(strstr(line_of(memo.out, 10), "first Aaron Zed,") != NULL, "%s",
	          line_of(memo.out, 10));
	expect_same(memo.out, bare.out);
	replay_free(&probe);
	replay_free(&bare);
	replay_free(&memo);
	ex_rmdir(dir);
}

Test(userdb, missing_user_is_remembered_as_missing)
{
	char *dir = ex_mkdir();
	gen(dir, "50", "10");
	ex_write(ex_path(dir, "requests.log"), "get 51\nget 51\nget 51\nget 50\n");
	struct replay bare = replay(dir, ex_path(dir, "requests.log"), 0);
	struct replay memo = replay(dir, ex_path(dir, "requests.log"), 1);
	cr_assert_eq(memo.status, 0);
	cr_expect_str_eq(line_of(memo.out, 3), "get 51: no such user");
	/* negative_ttl keeps the "no such user" answer: two hits. */
	cr_expect_eq(ex_stat(memo.stats, "get_user", "hits"), 2, "%s", memo.stats);
	expect_same(memo.out, bare.out);
	replay_free(&bare);
	replay_free(&memo);
	ex_rmdir(dir);
}
