/* Running the fixture program and the ldmemo command for the profile
 * suites. */
#ifndef LM_TEST_PROFILE_HELPERS_H
#define LM_TEST_PROFILE_HELPERS_H

/* Run ARGV (argv[0] a path) with ENV entries ("NAME=value", NULL-ended,
 * may be NULL) added to a copy of the environment without LDMEMO_* and
 * LD_PRELOAD; its stdout and stderr into *OUT and *ERR (malloc'd, may be
 * NULL). Returns the exit status, or 128 + signal. */
int pf_run(const char *const *argv, const char *const *env, char **out, char **err);

/* build/NAME and build/tests/profile/NAME, from the repository root. */
const char *pf_build(const char *name);
const char *pf_fixture(const char *name);

/* A fresh directory under /tmp (static storage until the next call). */
const char *pf_tmpdir(void);

/* The text of PATH (malloc'd), or NULL. */
char *pf_slurp(const char *path);

#endif
