/* Reasons: the shim's preparing functions explain a refusal in a
 * caller's buffer (why, whylen), which may be NULL. */
#ifndef LM_WHY_H
#define LM_WHY_H

#include <stddef.h>

/* Format the reason into WHY; returns -1, so that `return lm_why(...)`
 * refuses in one line. */
int lm_why(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
