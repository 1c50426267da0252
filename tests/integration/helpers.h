/* Running fixture programs with and without the shim. */
#ifndef IT_HARNESS_H
#define IT_HARNESS_H

#include <stdbool.h>

struct it_run {
	int status; /* exit status, or 128 + signal */
	char *out;
	char *err;
};

/* Run ARGV (argv[0] a path) with the shim preloaded when CONF is non-NULL
 * (the config text, written to a temporary file), plus ENV entries
 * ("NAME=value", NULL-terminated, may be NULL). Waits at most 60 s. */
struct it_run it_run(const char *conf, const char *const *argv, const char *const *env);
void it_free(struct it_run *r);

/* build/tests/integration/NAME */
const char *it_path(const char *name);

/* The value of "KEY=123" in TEXT, or -1. */
long it_field(const char *text, const char *key);

/* TEXT with every "runs=N" and "calls=N" removed, for comparing outputs. */
char *it_strip_counts(const char *text);

#endif
