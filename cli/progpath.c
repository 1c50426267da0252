/* Finding a program in PATH as execvp would, for the subcommands that read
 * a program's file instead of running it. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void lm_cli_find_program(const char *program, char *out, size_t outlen)
{
	const char *path = getenv("PATH");

	snprintf(out, outlen, "%s", program);
	if (strchr(program, '/') || !*program)
		return;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		char cand[PATH_MAX];

		snprintf(cand, sizeof(cand), "%.*s/%s", (int)(len ? len : 1), len ? path : ".",
		         program);
		if (access(cand, X_OK) == 0) {
			snprintf(out, outlen, "%s", cand);
			return;
		}
		if (!end)
			break;
		path = end + 1;
	}
}
