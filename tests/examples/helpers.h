/* Running the example programs of examples/userdb, with and without the
 * shim, from the repository's top directory. */
#ifndef EX_RUNNER_H
#define EX_RUNNER_H

/* A fresh directory under /tmp, removed by ex_rmdir. */
char *ex_mkdir(void);
void ex_rmdir(char *dir);

/* DIR/NAME, in a buffer that lives until the next few calls. */
const char *ex_path(const char *dir, const char *name);

void ex_write(const char *path, const char *text);
char *ex_slurp(const char *path); /* the file's bytes, NUL-terminated; free it */
void ex_copy(const char *from, const char *to);

/* Runs ARGV (argv[0] a path), stdout to OUT, stderr to ERR, in the test's
 * environment without LD_PRELOAD or LDMEMO_* plus ENV ("NAME=value",
 * NULL-terminated). Returns the exit status, or 128 + signal; kills it
 * after 60 s. */
int ex_run(const char *out, const char *err, const char *const *argv, const char *const *env);

/* In a JSON statistics dump, the counter FIELD of the method or write
 * function NAME, or -1. */
long ex_stat(const char *json, const char *name, const char *field);

#endif
