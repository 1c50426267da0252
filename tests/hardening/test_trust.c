/* Config trust (shim/base/trust.c): a config that someone other than the user
 * (or root) could have written is refused, and the shim stays inactive. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "shim/base/trust.h"
#include "tests/integration/helpers.h"

#define OTHER_UID 65534 /* nobody */

static const char conf[] = "[cache hard_square]\nsignature = long hard_square(long x)\n";

static void need_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to give a file to another user");
}

static int check(const char *path, char *why, size_t len)
{
	int fd = lm_trust_open(path, "config", why, len);
	if (fd >= 0)
		close(fd);
	return fd >= 0 || why[0] == '\0' ? 0 : -1;
}

Test(trust, own_file_in_private_dir_is_trusted)
{
	char *d = hd_tmpdir(0700), *f = hd_write(d, "app.conf", conf, 0644);
	char why[512];
	cr_expect_eq(check(f, why, sizeof why), 0, "%s", why);
	hd_rmdir(d);
	free(f);
	free(d);
}

Test(trust, world_writable_file_is_refused)
{
	char *d = hd_tmpdir(0700), *f = hd_write(d, "app.conf", conf, 0666);
	char why[512], want[600];
	cr_expect_eq(check(f, why, sizeof why), -1);
	snprintf(want, sizeof want, "%s: refusing a config writable by others (mode 0666)", f);
	cr_expect_str_eq(why, want);
	hd_rmdir(d);
	free(f);
	free(d);
}

Test(trust, group_writable_file_is_refused)
{
	char *d = hd_tmpdir(0700), *f = hd_write(d, "app.conf", conf, 0620);
	char why[512];
	cr_expect_eq(check(f, why, sizeof why), -1);
	cr_expect(strstr(why, "writable by its group (mode 0620)") != NULL, "%s", why);
	hd_rmdir(d);
	free(f);
	free(d);
}

Test(trust, file_of_another_user_is_refused)
{
	need_root();
	char *d = hd_tmpdir(0755), *f = hd_write(d, "app.conf", conf, 0644);
	cr_assert_eq(chown(f, OTHER_UID, OTHER_UID), 0);
	char why[512];
	cr_expect_eq(check(f, why, sizeof why), -1);
	cr_expect(strstr(why, "owned by another user (uid 65534)") != NULL, "%s", why);
	hd_rmdir(d);
	free(f);
	free(d);
}

Test(trust, directory_writable_by_others_is_refused)
{
	char *d = hd_tmpdir(0777), *f = hd_write(d, "app.conf", conf, 0644);
	char why[512];
	cr_expect_eq(check(f, why, sizeof why), -1);
	cr_expect(strstr(why, "a directory writable by others (mode 0777)") != NULL, "%s", why);
	cr_expect(strstr(why, d) != NULL, "names the directory: %s", why);
	hd_rmdir(d);
	free(f);
	free(d);
}

Test(trust, sticky_shared_directory_is_trusted)
{
	char *d = hd_tmpdir(01777), *f = hd_write(d, "app.conf", conf, 0644);
	char why[512];
	cr_expect_eq(check(f, why, sizeof why), 0, "%s", why);
	hd_rmdir(d);
	free(f);
	free(d);
}

Test(trust, directory_of_another_user_is_refused)
{
	need_root();
	char *d = hd_tmpdir(0755), *f = hd_write(d, "app.conf", conf, 0644);
	cr_assert_eq(chown(d, OTHER_UID, OTHER_UID), 0);
	char why[512];
	cr_expect_eq(check(f, why, sizeof why), -1);
	cr_expect(strstr(why, "a directory owned by another user (uid 65534)") != NULL, "%s", why);
	hd_rmdir(d);
	free(f);
	free(d);
}

Test(trust, symlink_is_judged_by_its_target)
{
	char *d = hd_tmpdir(0700), *f = hd_write(d, "real.conf", conf, 0666);
	char link[600];
	snprintf(link, sizeof link, "%s/app.conf", d);
	cr_assert_eq(symlink(f, link), 0);
	char why[512];
	cr_expect_eq(check(link, why, sizeof why), -1);
	cr_expect(strstr(why, "writable by others") != NULL, "%s", why);
	hd_rmdir(d);
	free(f);
	free(d);
}

Test(trust, missing_file_is_left_to_the_loader)
{
	char why[512];
	cr_expect_eq(check("/nonexistent/ldmemo/app.conf", why, sizeof why), 0);
}

/* The shim with the config at MODE: the program's run count tells whether
 * it was active (10 runs: cached) or not (30). */
static struct it_run run_with_mode(mode_t mode, const char *strict)
{
	char *d = hd_tmpdir(0700), *f = hd_write(d, "app.conf", conf, mode);
	char *prog = hd_path("early"), *shim = hd_shim();
	char *pre = hd_env("LD_PRELOAD", shim), *cfg = hd_env("LDMEMO_CONFIG", f);
	const char *argv[] = {prog, NULL};
	const char *env[] = {pre, cfg, strict, NULL};
	struct it_run r = it_run(NULL, argv, env);
	hd_rmdir(d);
	free(d);
	free(f);
	free(prog);
	free(shim);
	free(pre);
	free(cfg);
	return r;
}

Test(trust, shim_is_active_with_a_private_config)
{
	struct it_run r = run_with_mode(0600, NULL);
	cr_expect_eq(r.status, 0);
	cr_expect_eq(it_field(r.out, "runs"), 10, "%s", r.out);
	cr_expect_str_empty(r.err);
	it_free(&r);
}

Test(trust, shim_stays_inactive_with_a_writable_config)
{
	struct it_run r = run_with_mode(0666, NULL);
	cr_expect_eq(r.status, 0);
	cr_expect_eq(it_field(r.out, "runs"), 30, "%s", r.out);
	cr_expect(strncmp(r.err, "ldmemo[", 7) == 0, "%s", r.err);
	cr_expect(strstr(r.err, "app.conf: refusing a config writable by others (mode 0666)\n") !=
	              NULL,
	          "%s", r.err);
	it_free(&r);
}

Test(trust, strict_refusal_exits_125)
{
	struct it_run r = run_with_mode(0666, "LDMEMO_STRICT=1");
	cr_expect_eq(r.status, 125);
	cr_expect_str_empty(r.out);
	cr_expect(strstr(r.err, "refusing a config") != NULL, "%s", r.err);
	it_free(&r);
}

/* `check` runs the shim's trust test: a config the shim would refuse does
 * not pass `check` with exit 0. */
Test(trust, check_refuses_what_the_shim_refuses)
{
	char *d = hd_tmpdir(0700), *f = hd_write(d, "app.conf", conf, 0664);
	char *shim = hd_shim(), ldmemo[4096];
	snprintf(ldmemo, sizeof ldmemo, "%.*s/ldmemo",
	         (int)(strlen(shim) - strlen("/libldmemo.so")), shim);
	const char *argv[] = {ldmemo, "check", "-c", f, "/bin/true", NULL};
	struct it_run r = it_run(NULL, argv, NULL);
	cr_expect_eq(r.status, 2, "%s%s", r.out, r.err);
	cr_expect(strstr(r.err, "refusing a config writable by its group"), "%s", r.err);
	cr_expect(strstr(r.err, "the shim would refuse it"), "%s", r.err);
	it_free(&r);
	hd_rmdir(d);
	free(f);
	free(d);
	free(shim);
}

/* The file judged is the file read (issue 16): another thread flips a
 * symlink between a trusted config and one writable by others; whenever
 * the check passes, the descriptor it returns holds the trusted text.
 * A stat of the name followed by an open of the name fails this. */
struct flipper {
	const char *link, *good, *bad;
	volatile int stop;
};

static void *flip(void *arg)
{
	struct flipper *fl = arg;
	char tmp[700];
	snprintf(tmp, sizeof tmp, "%s.tmp", fl->link);
	for (unsigned i = 0; !fl->stop; i++) {
		unlink(tmp);
		if (symlink(i % 2 ? fl->bad : fl->good, tmp) == 0)
			rename(tmp, fl->link);
	}
	unlink(tmp);
	return NULL;
}

Test(trust, a_flipped_symlink_never_slips_the_untrusted_file_in)
{
	char *d = hd_tmpdir(0700);
	char *good = hd_write(d, "good.conf", "good\n", 0600);
	char *bad = hd_write(d, "bad.conf", "bad!\n", 0666);
	char link[600];
	snprintf(link, sizeof link, "%s/app.conf", d);
	cr_assert_eq(symlink(good, link), 0);
	struct flipper fl = {.link = link, .good = good, .bad = bad};
	pthread_t t;
	pthread_create(&t, NULL, flip, &fl);
	int trusted = 0, refused = 0, wrong = 0;
	for (int i = 0; i < 20000; i++) {
		char why[512], text[8] = "";
		int fd = lm_trust_open(link, "config", why, sizeof why);
		if (fd < 0) {
			refused += why[0] != '\0';
			continue;
		}
		trusted++;
		if (read(fd, text, 5) != 5 || memcmp(text, "good\n", 5) != 0)
			wrong++;
		close(fd);
	}
	fl.stop = 1;
	pthread_join(t, NULL);
	cr_expect_eq(wrong, 0, "%d of %d trusted opens read the untrusted file", wrong, trusted);
	cr_expect_gt(trusted, 0);
	cr_expect_gt(refused, 0, "the flipper did flip");
	unlink(link);
	hd_rmdir(d);
	free(good);
	free(bad);
	free(d);
}

/* A FIFO (it would block the open and the program's start for ever) or a
 * directory is refused at once, and said to be one. */
Test(trust, a_fifo_or_a_directory_is_refused_without_waiting)
{
	char *d = hd_tmpdir(0700);
	char fifo[600];
	snprintf(fifo, sizeof fifo, "%s/app.conf", d);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	char why[512];
	cr_expect_eq(lm_trust_open(fifo, "config", why, sizeof why), -1);
	cr_expect(strstr(why, "refusing a config that is a FIFO"), "%s", why);
	cr_expect_eq(lm_trust_open(d, "config", why, sizeof why), -1);
	cr_expect(strstr(why, "refusing a config that is a directory"), "%s", why);
	unlink(fifo);
	hd_rmdir(d);
	free(d);
}

/* The shim given a FIFO as its config: the program starts and runs
 * uncached, with the reason said (it used to block in open for ever). */
Test(trust, shim_with_a_fifo_config_starts_uncached)
{
	char *d = hd_tmpdir(0700);
	char fifo[600];
	snprintf(fifo, sizeof fifo, "%s/app.conf", d);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	char *prog = hd_path("early"), *shim = hd_shim();
	char *pre = hd_env("LD_PRELOAD", shim), *cfg = hd_env("LDMEMO_CONFIG", fifo);
	const char *argv[] = {prog, NULL};
	const char *env[] = {pre, cfg, NULL};
	struct it_run r = it_run(NULL, argv, env);
	cr_expect_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 30, "%s", r.out);
	cr_expect(strstr(r.err, "refusing a config that is a FIFO"), "%s", r.err);
	it_free(&r);
	unlink(fifo);
	hd_rmdir(d);
	free(d);
	free(prog);
	free(shim);
	free(pre);
	free(cfg);
}
