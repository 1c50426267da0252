/* Config trust, like ssh's StrictModes: a config decides which functions of
 * the program are replaced by cached answers, so one that another user can
 * write is a way into every process that reads it. */
#ifndef LM_TRUST_H
#define LM_TRUST_H

#include <stddef.h>

/* 0 when PATH may be read as a config by this process: the file and every
 * directory above its real path are owned by root or the effective user,
 * and none is writable by group or others (a directory with the sticky bit,
 * like /tmp, may be). -1 with "PATH: refusing ..." in WHY otherwise. A path
 * that cannot be examined passes: reading it fails and is reported there. */
int lm_trust_check(const char *path, char *why, size_t whylen);

#endif
