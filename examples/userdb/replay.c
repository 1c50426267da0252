/* Replays a request log against the user service, the way a front end would:
 * one request per line, one answer line per request on stdout, then a
 * checksum over all answers. The program knows nothing of ldmemo.
 *
 *   get ID           get_user
 *   name ID          user_name
 *   dept NAME        list_users_by_dept
 *   update ID NAME   update_user
 */
#include "userdb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Answers one request line into OUT (CAP bytes). */
static void answer(char *line, char *out, size_t cap)
{
	static char list[16384];
	char *verb = strtok(line, " \t\n");
	char *arg = strtok(NULL, " \t\n");
	char *rest = strtok(NULL, "\n");
	if (!verb || !arg) {
		snprintf(out, cap, "bad request");
		return;
	}
	if (strcmp(verb, "get") == 0) {
		struct user u;
		int rc = get_user(atol(arg), &u);
		if (rc == 0)
			snprintf(out, cap, "get %s: %s <%s> %s since %" PRId64, arg, u.name,
			         u.email, u.dept, u.created);
		else
			snprintf(out, cap, "get %s: %s", arg, rc > 0 ? "no such user" : "error");
	} else if (strcmp(verb, "name") == 0) {
		char *name = user_name(atol(arg));
		snprintf(out, cap, "name %s: %s", arg, name ? name : "(none)");
		free(name);
	} else if (strcmp(verb, "dept") == 0) {
		int n = list_users_by_dept(arg, list, sizeof list);
		const char *comma = strchr(list, ',');
		int first = comma ? (int)(comma - list) : (int)strlen(list);
		snprintf(out, cap, "dept %s: %d users, first %.*s, list %016" PRIx64, arg, n, first,
		         list, fnv1a(0xcbf29ce484222325ULL, list, strlen(list)));
	} else if (strcmp(verb, "update") == 0 && rest) {
		snprintf(out, cap, "update %s %s: %s", arg, rest,
		         update_user(atol(arg), rest) == 0 ? "ok" : "failed");
	} else {
		snprintf(out, cap, "bad request");
	}
}

int main(int argc, char **argv)
{
	FILE *in = stdin;
	if (argc > 2 || (argc == 2 && !(in = fopen(argv[1], "r")))) {
		fprintf(stderr, "usage: replay [LOG]\n");
		return 2;
	}
	char line[512], out[1024];
	uint64_t sum = 0xcbf29ce484222325ULL;
	long n = 0;
	while (fgets(line, sizeof line, in)) {
		answer(line, out, sizeof out);
		puts(out);
		sum = fnv1a(sum, out, strlen(out));
		n++;
	}
	printf("checksum %016" PRIx64 " over %ld requests\n", sum, n);
	return ferror(in) ? 1 : 0;
}
