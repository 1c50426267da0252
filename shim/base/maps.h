/* The lines of /proc/self/maps, read with plain system calls: no malloc
 * (the shim may read them before the host's allocator is usable) and no
 * stdio (fopen and sscanf touch pages of libc a starting program has not
 * used). */
#ifndef LM_MAPS_H
#define LM_MAPS_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of a line kept for its reader: the head "start-end perms offset
 * dev inode" and, unless the path is long, the path. */
#define LM_MAPS_HEAD 127
/* Bytes read at a time (a frame under a page, which the compiler does not
 * probe page by page). */
#define LM_MAPS_READ 3584

/* Calls CB for each line of the maps text read from FD to its end, until
 * it returns nonzero; returns that value, 0 at the end. HEAD is the
 * line's first LM_MAPS_HEAD bytes at most, without its newline and ended
 * by a NUL; LEN is the whole line's length (more than LM_MAPS_HEAD: HEAD
 * is cut). A last line without its newline is not a line (the kernel
 * ends each). */
int lm_maps_lines(int fd, int (*cb)(const char *head, size_t len, void *arg), void *arg);

/* The hexadecimal number at *P (lowercase, as the maps write it); *P is
 * left on the first byte after it. */
static inline uintptr_t lm_maps_hex(const char **p)
{
	uintptr_t v = 0;
	for (;; (*p)++) {
		char c = **p;
		if (c >= '0' && c <= '9')
			v = v << 4 | (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uintptr_t)(c - 'a' + 10);
		else
			return v;
	}
}

#endif
