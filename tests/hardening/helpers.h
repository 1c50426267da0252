/* Helpers of the hardening tests: fixture paths, temporary directories and
 * files with chosen modes. Programs run through the integration harness. */
#ifndef HD_H
#define HD_H

#include <sys/types.h>

/* $PWD/build/tests/hardening/NAME and $PWD/build/libldmemo.so (fresh
 * strings the caller frees). */
char *hd_path(const char *name);
char *hd_shim(void);

/* A fresh directory /tmp/ldmemo-hd-XXXXXX with MODE. */
char *hd_tmpdir(mode_t mode);
/* Write TEXT to DIR/NAME with MODE (exactly, whatever the umask). */
char *hd_write(const char *dir, const char *name, const char *text, mode_t mode);
/* Remove DIR and the files directly in it. */
void hd_rmdir(const char *dir);

/* "NAME=VALUE" as a fresh string. */
char *hd_env(const char *name, const char *value);

#endif
