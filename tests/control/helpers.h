/* The control tests' plumbing: the fixture program run under the shim and
 * driven line by line, and `ldmemo ctl` (or any program) run to completion. */
#ifndef CTL_PROC_H
#define CTL_PROC_H

#include <stdbool.h>
#include <sys/types.h>

struct fx {
	pid_t pid;
	int in, out;
	char dir[64];   /* temporary; XDG_RUNTIME_DIR unless started without */
	char sock[128]; /* where the shim puts its socket */
};

struct fx_opts {
	bool control; /* LDMEMO_CONTROL=1 */
	bool no_xdg;  /* XDG_RUNTIME_DIR unset: the /tmp fallback */
	int dir_mode; /* non-zero: create DIR/ldmemo with this mode first */
};

/* Start tests/control/fixtures/ctlfix under the shim, wait for "ready". */
void fx_start(struct fx *f, const struct fx_opts *o);
/* Send one command line, return the fixture's answer line (static). */
const char *fx_cmd(struct fx *f, const char *cmd);
/* Read one more line from the fixture (static). */
const char *fx_line(struct fx *f);
/* "quit", wait for the exit, return its status; the directory stays. */
int fx_quit(struct fx *f);
/* The fixture's stderr so far (malloc'd). */
char *fx_err(const struct fx *f);
/* Remove the temporary directory. */
void fx_cleanup(struct fx *f);

struct run {
	int status;
	char *out, *err;
};

/* Run ARGV with ENV added ("NAME=value", NULL-terminated, may be NULL)
 * and LD_PRELOAD and LDMEMO_* removed from the rest; at most 30 s. */
struct run run_prog(const char *const *argv, const char *const *env);
/* build/ldmemo ctl PID ARGS... */
struct run run_ctl(pid_t pid, const char *const *args);
void run_free(struct run *r);

/* The value N of "KEY=N" in TEXT, or -1. */
long field(const char *text, const char *key);
/* Wait (bounded) until PATH exists (want true) or is gone (want false). */
bool wait_path(const char *path, bool want);
/* A raw connection to the control socket at PATH (asserts). */
int fx_connect(const char *path);
/* PWD/build/... */
const char *bpath(const char *rel);

#endif
