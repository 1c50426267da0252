/* The lines of /proc/self/maps (maps.h). */
#include <string.h>
#include <unistd.h>

#include "maps.h"

int lm_maps_lines(int fd, int (*cb)(const char *head, size_t len, void *arg), void *arg)
{
	char buf[LM_MAPS_READ], head[LM_MAPS_HEAD + 1];
	size_t len = 0; /* of the line so far, across reads */
	int rc = 0;
	ssize_t n;
	while (!rc && (n = read(fd, buf, sizeof buf)) > 0) {
		const char *p = buf, *end = buf + n;
		/* by memchr: start-up reads the maps a few times, and a byte
		 * loop was a fifth of its instructions */
		while (!rc && p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t seg = (size_t)((nl ? nl : end) - p);
			if (len < LM_MAPS_HEAD)
				memcpy(head + len, p,
				       seg < LM_MAPS_HEAD - len ? seg : LM_MAPS_HEAD - len);
			len += seg;
			if (!nl)
				break;
			head[len < LM_MAPS_HEAD ? len : LM_MAPS_HEAD] = '\0';
			rc = cb(head, len, arg);
			len = 0;
			p = nl + 1;
		}
	}
	return rc;
}
