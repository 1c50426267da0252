/* `persist = PATH` (spec 3.1): a second run answers from the file the
 * first wrote; files of another signature, program or format, damaged
 * files and expired entries load nothing; a forked child does not write. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

struct pdir {
	char dir[32];
	char file[64];
};

static void pdir_init(struct pdir *p)
{
	strcpy(p->dir, "/tmp/ldmemo-persist-XXXXXX");
	cr_assert(mkdtemp(p->dir) != NULL);
	snprintf(p->file, sizeof p->file, "%s/cache", p->dir);
}

static void pdir_free(struct pdir *p)
{
	unlink(p->file);
	rmdir(p->dir);
}

/* A config persisting to P with fix_square's signature SIG and extra
 * text EXTRA. */
static char *conf(const struct pdir *p, const char *sig, const char *extra)
{
	char *c;
	cr_assert(asprintf(&c, "[global]\npersist = %s\n[cache fix_square]\nsignature = %s\n%s",
	                   p->file, sig, extra) > 0);
	return c;
}

static struct it_run run(const char *prog, const char *conf_text, const char *scenario)
{
	const char *argv[] = {it_path(prog), scenario, NULL};
	const char *env[] = {"LDMEMO_LOG=info", NULL};
	return it_run(conf_text, argv, env);
}

static const char sig[] = "long fix_square(long x)";

Test(persist, second_run_answers_from_the_file)
{
	struct pdir p;
	pdir_init(&p);
	char *c = conf(&p, sig, "");
	struct it_run r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 10);
	cr_expect(strstr(r.err, "persisted 10 entries") != NULL, "%s", r.err);
	struct stat st;
	cr_assert_eq(stat(p.file, &st), 0, "the file is written");
	cr_expect_eq(st.st_mode & 0777, 0600);
	it_free(&r);

	r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 0, "every key answered from the file: %s", r.out);
	cr_expect(strstr(r.err, "loaded 10 of 10 entries") != NULL, "%s", r.err);
	it_free(&r);
	free(c);
	pdir_free(&p);
}

Test(persist, changed_signature_ignores_the_method_with_a_warning)
{
	struct pdir p;
	pdir_init(&p);
	char *c = conf(&p, sig, "");
	struct it_run r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	it_free(&r);
	free(c);

	c = conf(&p, "long fix_square(i32 x)", "");
	r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 10, "%s", r.out);
	cr_expect(strstr(r.err, "written for another signature") != NULL, "%s", r.err);
	it_free(&r);
	free(c);
	pdir_free(&p);
}

Test(persist, another_program_ignores_the_file_with_a_warning)
{
	struct pdir p;
	pdir_init(&p);
	char *c = conf(&p, sig, "");
	struct it_run r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	it_free(&r);

	r = run("prog-nopie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 10, "%s", r.out);
	cr_expect(strstr(r.err, "not ") && strstr(r.err, "ignored"), "%s", r.err);
	it_free(&r);
	free(c);
	pdir_free(&p);
}

Test(persist, expired_entries_are_not_loaded)
{
	struct pdir p;
	pdir_init(&p);
	char *c = conf(&p, sig, "ttl = 300ms\n");
	struct it_run r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.err, "persisted 10 entries") != NULL, "%s", r.err);
	it_free(&r);
	usleep(500 * 1000);

	r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 10, "%s", r.out);
	cr_expect(strstr(r.err, "loaded 0 of 10 entries") != NULL, "%s", r.err);
	it_free(&r);
	free(c);
	pdir_free(&p);
}

Test(persist, damaged_or_foreign_files_load_nothing)
{
	struct pdir p;
	pdir_init(&p);
	char *c = conf(&p, sig, "");
	struct it_run r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	it_free(&r);

	struct stat st;
	cr_assert_eq(stat(p.file, &st), 0);
	cr_assert_eq(truncate(p.file, st.st_size - 3), 0);
	r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 10, "%s", r.out);
	cr_expect(strstr(r.err, "damaged: ignored") != NULL, "%s", r.err);
	it_free(&r);

	FILE *f = fopen(p.file, "w");
	cr_assert_not_null(f);
	fputs("not a cache at all\n", f);
	fclose(f);
	r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 10, "%s", r.out);
	cr_expect(strstr(r.err, "not an ldmemo cache file") != NULL, "%s", r.err);
	it_free(&r);
	free(c);
	pdir_free(&p);
}

Test(persist, local_only_methods_are_not_written)
{
	struct pdir p;
	pdir_init(&p);
	/* Keyed by address: the literals sit at the same addresses in the
	 * next run of a non-PIE program, so only the rule keeps them out. */
	char *c = conf(&p, sig, "[cache fix_strlen]\nsignature = long fix_strlen(ptr s)\n");
	struct it_run r = run("prog-nopie-O2", c, "strlen");
	cr_assert_eq(r.status, 0, "%s", r.err);
	long first = it_field(r.out, "runs");
	cr_expect_gt(first, 0);
	it_free(&r);

	r = run("prog-nopie-O2", c, "strlen");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), first, "%s", r.out);
	it_free(&r);
	free(c);
	pdir_free(&p);
}

Test(persist, only_the_parent_writes_after_fork)
{
	struct pdir p;
	pdir_init(&p);
	char *c = conf(&p, sig, "");
	struct it_run r = run("prog-pie-O2", c, "fork");
	cr_assert_eq(r.status, 0, "%s", r.err);
	int writes = 0;
	for (const char *q = strstr(r.err, ": persisted "); q; q = strstr(q + 1, ": persisted "))
		writes++;
	cr_expect_eq(writes, 1, "%s", r.err);
	it_free(&r);
	free(c);
	pdir_free(&p);
}

/* A file that is not a cache (a program, here) is never written over: it
 * is warned about and left as it was (issue 16). */
Test(persist, a_file_that_is_not_a_cache_is_never_written_over)
{
	struct pdir p;
	pdir_init(&p);
	FILE *f = fopen(p.file, "w");
	cr_assert_not_null(f);
	for (int i = 0; i < 1000; i++)
		fputs("\177ELF not a cache, someone's data\n", f);
	fclose(f);
	struct stat before;
	cr_assert_eq(stat(p.file, &before), 0);
	char *c = conf(&p, sig, "");
	struct it_run r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.err, "not an ldmemo cache file: ignored, and not written over"), "%s",
	          r.err);
	cr_expect(strstr(r.err, "persisted") == NULL, "%s", r.err);
	struct stat after;
	cr_assert_eq(stat(p.file, &after), 0);
	cr_expect_eq(after.st_ino, before.st_ino, "the file was replaced");
	cr_expect_eq(after.st_size, before.st_size);
	it_free(&r);
	free(c);
	pdir_free(&p);
}

/* A FIFO as the persist file: start-up does not wait for a writer, and the
 * FIFO is left alone at exit (issue 16). */
Test(persist, a_fifo_is_refused_at_once_and_left_alone)
{
	struct pdir p;
	pdir_init(&p);
	cr_assert_eq(mkfifo(p.file, 0600), 0);
	char *c = conf(&p, sig, "");
	struct it_run r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 10, "cached all the same: %s", r.out);
	cr_expect(strstr(r.err, "refusing a cache file that is a FIFO"), "%s", r.err);
	struct stat st;
	cr_assert_eq(lstat(p.file, &st), 0);
	cr_expect(S_ISFIFO(st.st_mode), "the FIFO was replaced");
	it_free(&r);
	free(c);
	pdir_free(&p);
}

/* Entries written under ttl = never, loaded after the config lowered the
 * TTL to 1m by a run an hour later (the file's time set back): older than
 * the TTL, none is served (issue 16). */
Test(persist, a_lowered_ttl_holds_for_loaded_entries)
{
	struct pdir p;
	pdir_init(&p);
	char *c = conf(&p, sig, "ttl = never\n");
	struct it_run r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect(strstr(r.err, "persisted 10 entries") != NULL, "%s", r.err);
	it_free(&r);
	free(c);
	struct timespec hour_ago[2];
	clock_gettime(CLOCK_REALTIME, &hour_ago[0]);
	hour_ago[0].tv_sec -= 3600;
	hour_ago[1] = hour_ago[0];
	cr_assert_eq(utimensat(AT_FDCWD, p.file, hour_ago, 0), 0);

	c = conf(&p, sig, "ttl = 1m\n");
	r = run("prog-pie-O2", c, "basic");
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_expect_eq(it_field(r.out, "runs"), 10, "%s", r.out);
	cr_expect(strstr(r.err, "loaded 0 of 10 entries") != NULL, "%s", r.err);
	it_free(&r);
	free(c);
	pdir_free(&p);
}
