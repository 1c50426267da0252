/* Hand-made snapshots and rendering into a string, for the renderer and
 * reader tests. */
#ifndef TESTS_STATS_HELPERS_H
#define TESTS_STATS_HELPERS_H

#include <stdbool.h>

#include "cli/dump.h"
#include "config/config.h"
#include "shim/ops/stats_snapshot.h"

/* A snapshot of two methods and one write function; every number
 * distinct, so that a field read from the wrong place shows. */
struct sample {
	struct lm_snapshot s;
	struct lm_snap_method m[2];
	struct lm_snap_writer w[1];
};
void sample_init(struct sample *x);
/* The sample a test starts from: its suite's .init (sample_setup) fills
 * it afresh before each test. */
extern struct sample sample;
void sample_setup(void);

/* S rendered in FMT; malloc'd. */
char *render(const struct lm_snapshot *s, enum lm_stats_format fmt, bool colour);

/* The line of TEXT that starts with PREFIX, as a malloc'd string, or NULL. */
char *line_starting(const char *text, const char *prefix);
/* The same line, which must be there (else the test fails, showing TEXT). */
char *row_of(const char *text, const char *prefix);

/* WANT is in TEXT (else the test goes on, failed, showing TEXT). */
void expect_has(const char *text, const char *want);

/* X's JSON dump, then the same with the pid PID: two dumps, one a line;
 * malloc'd. */
char *two_dumps(struct sample *x, int pid);

/* The next dump of TEXT from *POS into D, which must read (else the test
 * fails with the reader's message). */
void must_read(const char *text, size_t *pos, struct lm_dump *d);

#endif
