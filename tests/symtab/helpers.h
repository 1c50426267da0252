/* Shared by the symtab tests: where the fixtures are, and running the
 * ldmemo command with its output captured. */
#ifndef LM_TEST_SYMTAB_HARNESS_H
#define LM_TEST_SYMTAB_HARNESS_H

#include <stddef.h>

/* build/tests/symtab/NAME, found from the test binary's own path. */
const char *lm_fixture(const char *name);
/* build/NAME (build/ldmemo, build/libldmemo.so). */
const char *lm_built(const char *name);

/* Run ARGV with the extra "NAME=VALUE" settings of ENV (NULL-terminated;
 * a bare "NAME" unsets it); stdout and stderr together in *OUT (malloc'd).
 * Returns the exit status, or -1 if it did not exit normally. */
int lm_run(char *const argv[], const char *const env[], char **out);

/* A fresh directory under /tmp, removed by lm_tmpdir_remove. */
const char *lm_tmpdir(void);
void lm_tmpdir_remove(void);
/* Write TEXT to DIR/NAME; returns the path (static until the next call). */
const char *lm_write_file(const char *name, const char *text);

#endif
