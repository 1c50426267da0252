/* A number in decimal without the printf family: start-up formats a pid
 * and a descriptor, and each page of vfprintf it would touch is a page
 * fault in a program that never prints. */
#ifndef LM_DECIMAL_H
#define LM_DECIMAL_H

#include <stdint.h>

/* LM_DECIMAL_MAX bytes hold any uint64_t and its NUL. */
#define LM_DECIMAL_MAX 21

/* V in decimal, NUL-terminated, at the start of BUF (LM_DECIMAL_MAX
 * bytes); returns the end (the NUL). */
static inline char *lm_decimal(char *buf, uint64_t v)
{
	char tmp[LM_DECIMAL_MAX];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*buf++ = tmp[--n];
	*buf = '\0';
	return buf;
}

#endif
