/* Rendering statistics as text, JSON or Prometheus text exposition.
 * Async-signal-safe: a fixed buffer flushed with write(2), own number
 * formatting, no locks, no allocation. */
#ifndef LM_STATS_FORMAT_H
#define LM_STATS_FORMAT_H

#include "../config/config.h"

struct lm_runtime;

int lm_stats_format(const struct lm_runtime *rt, int fd, enum lm_stats_format fmt);

#endif
