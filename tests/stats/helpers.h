/* Hand-made snapshots and rendering into a string, for the renderer and
 * reader tests. */
#ifndef TESTS_STATS_HELPERS_H
#define TESTS_STATS_HELPERS_H

#include <stdbool.h>

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

/* S rendered in FMT; malloc'd. */
char *render(const struct lm_snapshot *s, enum lm_stats_format fmt, bool colour);

/* The line of TEXT that starts with PREFIX, as a malloc'd string, or NULL. */
char *line_starting(const char *text, const char *prefix);

#endif
