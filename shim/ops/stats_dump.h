/* Statistics dumps (spec section 5): where (LDMEMO_STATS), in which format
 * (text, json, prom) and when (at exit, on LDMEMO_STATS_SIGNAL, on
 * ldmemo_stats_dump). The exit hook also persists the cache (persist.h)
 * just before the final dump. */
#ifndef LM_STATS_DUMP_H
#define LM_STATS_DUMP_H

#include "config/config.h"

struct lm_runtime;

/* Read LDMEMO_STATS* (they win over [global]), install the signal handler
 * and the fork handler. */
void lm_stats_setup(struct lm_runtime *rt);

/* Write every method's statistics to FD: a snapshot collected, then
 * rendered (colour only for text on a terminal). Async-signal-safe: no
 * lock, no malloc. 0, or -1 when a write failed. */
int lm_stats_write(int fd, enum lm_stats_format fmt);

#endif
