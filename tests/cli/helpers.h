/* Running the ldmemo command itself, with stdout and stderr apart, in a
 * chosen directory and environment. */
#ifndef LM_TEST_CLI_HELPERS_H
#define LM_TEST_CLI_HELPERS_H

struct cli_run {
	int status; /* exit status; 128 + signal when killed */
	char *out, *err;
};

/* build/ldmemo, absolute. */
const char *cli_ldmemo(void);
/* The repository root, absolute. */
const char *cli_root(void);

/* Run build/ldmemo ARGV... (NULL-terminated, without argv[0]) in directory
 * CWD (NULL: ours), with ENV entries ("NAME=value", NULL-terminated, may
 * be NULL) added to an environment without LDMEMO_*. */
struct cli_run cli_run(const char *cwd, const char *const *env, const char *const *argv);
void cli_free(struct cli_run *r);

/* A fresh directory under /tmp (malloc'd path). */
char *cli_tempdir(void);
/* Write TEXT to DIR/NAME. */
void cli_write(const char *dir, const char *name, const char *text);

#endif
