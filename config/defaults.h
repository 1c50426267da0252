/* Every environment variable and default of ldmemo, in one place
 * (spec sections 2 and 3). The shim, the command and the docs agree on
 * these names because they all read them from here. */
#ifndef LM_DEFAULTS_H
#define LM_DEFAULTS_H

#define LDMEMO_VERSION "0.1.0"

/* ---- Environment (spec section 2) --------------------------------------- */

#define LM_ENV_CONFIG       "LDMEMO_CONFIG"
#define LM_ENV_STATS        "LDMEMO_STATS"
#define LM_ENV_STATS_FORMAT "LDMEMO_STATS_FORMAT"
#define LM_ENV_STATS_SIGNAL "LDMEMO_STATS_SIGNAL"
#define LM_ENV_LOG          "LDMEMO_LOG"
#define LM_ENV_STRICT       "LDMEMO_STRICT"
#define LM_ENV_MODE         "LDMEMO_MODE"
#define LM_ENV_CONTROL      "LDMEMO_CONTROL"
#define LM_ENV_DISABLE      "LDMEMO_DISABLE"
/* Set by the shim itself (to its pid) once it starts with a config: the
 * images a process exec's later and its children see it, and report a
 * method they lack at info (spec guarantee 8). */
#define LM_ENV_INHERITED "LDMEMO_INHERITED"

/* ---- [global] defaults (spec section 3) --------------------------------- */

#define LM_DEFAULT_TTL_MS      (5 * 60 * 1000LL)
#define LM_DEFAULT_MAX_ENTRIES 1000000ULL
#define LM_DEFAULT_MAX_MEMORY  (256ULL << 20)
/* The host-wide tier (spec 11): its default size, and the bounds a
 * shared_memory value must keep (the header alone takes about 40 KiB). */
#define LM_DEFAULT_SHARED_MEMORY    (64ULL << 20)
#define LM_SHARED_MEMORY_MIN        (1ULL << 20)
#define LM_SHARED_MEMORY_MAX        (64ULL << 30)
#define LM_DEFAULT_L1_TTL_MS        1000LL
#define LM_DEFAULT_REDIS_TIMEOUT_MS 50LL
#define LM_DEFAULT_REDIS_PORT       6379
#define LM_DEFAULT_MEMCACHED_PORT   11211

/* LDMEMO_STRICT=1 start-up failures exit with this status, as does the
 * wrapper for its own failures. */
#define LM_EXIT_STRICT    125
#define LM_EXIT_NOT_FOUND 127

/* Guarantee 3: an entry is never returned later than TTL + this. */
#define LM_TTL_SLACK_MS 10

/* Mismatches logged in verify mode before going quiet. */
#define LM_VERIFY_LOG_MAX 5

/* The adaptive bypass: misses before a verdict, and calls before the
 * warm-up is over (shim/call/adaptive.h; `ldmemo profile` turns it off
 * for a function with more distinct keys than that). */
#define LM_ADAPT_MIN_MISSES 64
#define LM_ADAPT_WARMUP     1024

#endif
