/* What `ldmemo profile` makes of the shim's records (profile_rank.c):
 * merged per function, predicted hit ratio and saving, a verdict by the
 * rules of spec section 10, the ranked table and the config. */
#ifndef LM_PROFILE_RANK_H
#define LM_PROFILE_RANK_H

#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "shim/profile/sketch.h"

/* What a cache costs, from bench/RESULTS.md: a hit (section 1, 11 to
 * 30 ns) and a miss that stores (section 5, "Fill", 1367 ns). */
#define LM_PROF_LOOKUP_NS 30.0
#define LM_PROF_MISS_NS   1400.0
/* A hit ratio below this does not pay for the entries' memory. */
#define LM_PROF_MIN_HIT_RATIO 0.2
/* A predicted saving below this (ns), or below this share of the run, is
 * no reason to cache. */
#define LM_PROF_MIN_SAVING_NS    500000.0
#define LM_PROF_MIN_SAVING_SHARE 0.005

struct lm_prof_fn {
	char *name, *object;
	uint64_t calls, fails, impure, checked, static_rep, caller_ptr;
	double ns;
	bool stopped; /* counting stopped early: calls and time are a lower bound */
	struct lm_sketch sk;
	/* lm_prof_rank's */
	double distinct, hit_ratio, mean_ns, saving_ns;
	const char *why_not; /* NULL: recommended */
	char why_buf[160];
	const struct lm_method *me; /* the known table's section, or NULL */
	const struct lm_known_file *kf;
};

struct lm_prof_set {
	struct lm_prof_fn *v;
	size_t n;
	double wall_ns; /* the run's, for shares */
	uint64_t processes;
};

/* Read and merge every record file in DIR (calls, time and counts add up,
 * sketches unite). The number of files read, or -1. */
int lm_prof_read_dir(const char *dir, struct lm_prof_set *set);
/* Parse one record file's text into SET (merging). 0, or -1 when it is
 * not a record file. */
int lm_prof_parse(const char *text, struct lm_prof_set *set);
/* Predict and judge each function; WALL_NS the run's wall time (used when
 * larger than the records'); sort: recommended first by saving, then the
 * others by time. */
void lm_prof_rank(struct lm_prof_set *set, const struct lm_known *known, int64_t wall_ns);
/* The ranked table, at most TOP rows of each kind. */
void lm_prof_table(const struct lm_prof_set *set, size_t top, FILE *out);
/* The config: the recommended functions' sections (with their types), each
 * with why, and a comment line per function left out. ARGV: the command. */
void lm_prof_config(const struct lm_prof_set *set, const struct lm_known *known, int argc,
                    char **argv, FILE *out);
void lm_prof_free(struct lm_prof_set *set);

#endif
