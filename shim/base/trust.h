/* Trust in the files that decide what a process does, like ssh's
 * StrictModes: a config decides which functions of the program are
 * replaced by cached answers, a persisted cache which answers they give,
 * so one that another user can write is a way into every process that
 * reads it. */
#ifndef LM_TRUST_H
#define LM_TRUST_H

#include <stddef.h>

/* Open PATH for reading as a WHAT ("config", "cache file"), once, and judge
 * what was opened, never the name again (a symlink flipped between a check
 * and the open cannot slip another file in): a regular file (a FIFO would
 * block, so the open never waits), owned by root or the effective user,
 * writable by neither group nor others, and every directory of its real
 * path, read through the descriptor, the same but that a sticky one (/tmp)
 * may be writable by all.
 * Returns the descriptor (blocking, close-on-exec), or -1: with "PATH:
 * refusing ..." in WHY when refused, or with WHY empty and errno set when
 * PATH cannot be opened (left to the caller to report). */
int lm_trust_open(const char *path, const char *what, char *why, size_t whylen);

#endif
