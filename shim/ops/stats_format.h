/* Rendering a statistics snapshot as text, JSON or Prometheus text
 * exposition (spec section 5). Shared by the shim's dumps and `ldmemo
 * stats`. Async-signal-safe: a fixed buffer flushed with write(2), own
 * number formatting, no locks, no allocation. */
#ifndef LM_STATS_FORMAT_H
#define LM_STATS_FORMAT_H

#include <stdbool.h>

#include "config/config.h"
#include "stats_snapshot.h"

/* Write S to FD in FMT; COLOUR adds terminal escapes to the text table
 * (the caller decides, e.g. by isatty). 0, or -1 when a write failed. */
int lm_stats_render(const struct lm_snapshot *s, int fd, enum lm_stats_format fmt, bool colour);

#endif
