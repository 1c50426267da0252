/* Statistics as data (spec section 5): one plain snapshot that the shim
 * collects from its runtime and `ldmemo stats` rebuilds from a JSON dump,
 * so that both render through the same code (stats_format.h). Strings are
 * borrowed: from the runtime in the shim, from the parsed dump in the
 * command. */
#ifndef LM_STATS_SNAPSHOT_H
#define LM_STATS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A cached method's numbers, in the order the spec lists them (the json
 * format keeps it). G: a gauge (held now), C: a counter. */
#define LM_SNAP_FIELDS(X) \
	X(calls, C)       \
	X(hits, C)        \
	X(misses, C)      \
	X(bypassed, C)    \
	X(stored, C)      \
	X(stale, C)       \
	X(mismatches, C)  \
	X(uncacheable, C) \
	X(coalesced, C)   \
	X(shared_hits, C) \
	X(expired, C)     \
	X(evicted, C)     \
	X(invalidated, C) \
	X(entries, G)     \
	X(bytes, G)       \
	X(miss_ns, C)     \
	X(saved_ns, C)    \
	X(negative, C)

enum lm_snap_field {
#define LM_X(name, kind) LM_SF_##name,
	LM_SNAP_FIELDS(LM_X)
#undef LM_X
	    LM_SF_COUNT
};

extern const char *const lm_snap_field_name[LM_SF_COUNT];
extern const bool lm_snap_field_gauge[LM_SF_COUNT];
/* A field that may be negative (saved_ns: a loss), kept in v[] as the
 * two's complement of an int64_t. */
extern const bool lm_snap_field_signed[LM_SF_COUNT];

struct lm_snap_method {
	const char *name, *object;
	const char *hook; /* detour, got, unresolved, failed, unloaded */
	const char *mode; /* cache, verify */
	uint64_t v[LM_SF_COUNT];
};

/* A write function. */
struct lm_snap_writer {
	const char *name, *object, *hook;
	uint64_t calls, dropped;
};

struct lm_snapshot {
	const char *version, *program, *backend;
	uint64_t pid;
	uint64_t uptime_ms;
	uint64_t entries, bytes; /* the whole store */
	/* The host tier (spec 11), when on: the mapping's size, the entries
	 * it holds now and its evictions since it was made (all processes). */
	bool host;
	uint64_t host_size, host_entries, host_evictions;
	struct lm_snap_method *methods;
	size_t nmethods;
	struct lm_snap_writer *writers;
	size_t nwriters;
};

struct lm_runtime;

/* Fill S from RT. METHODS and WRITERS must each hold rt->nmethods
 * records. Async-signal-safe: reads counters and store statistics only. */
void lm_snapshot_collect(const struct lm_runtime *rt, struct lm_snapshot *s,
                         struct lm_snap_method *methods, struct lm_snap_writer *writers);

#endif
