/* Struct-result driver: one libc lookup with a static result in a tight
 * loop, timed inside the process around the loop only (the first calls,
 * which fill every cache, are outside it).
 *
 *   nss KIND CALLS
 *
 * KIND: pwnam (getpwnam("root")), pwuid (getpwuid(0)), grgid
 * (getgrgid(0)), unknown (getpwnam of a name no database has), localtime
 * (localtime of one fixed time), f (long f(long) of libbenchfn.so, the
 * scalar anchor). Each iteration reads a field of the result, as a caller
 * would. Output: one line, `ns_per_call=N`. */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchfn.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long once(char kind, long i)
{
	static const time_t t = 1700000000;
	const struct passwd *pw;
	const struct group *gr;
	const struct tm *tm;

	switch (kind) {
	case 'n':
		pw = getpwnam("root");
		return pw ? pw->pw_name[0] + (long)pw->pw_uid : -1;
	case 'p':
		pw = getpwuid(0);
		return pw ? pw->pw_dir[1] : -1;
	case 'g':
		gr = getgrgid(0);
		return gr ? gr->gr_name[0] : -1;
	case 'u':
		return getpwnam("ldmemo-no-such-user") == NULL;
	case 'l':
		tm = localtime(&t);
		return tm ? tm->tm_hour : -1;
	default:
		return f(i & 63);
	}
}

int main(int argc, char **argv)
{
	static const char *const kinds[] = {"pwnam", "pwuid", "grgid", "unknown", "localtime", "f"};
	static const char codes[] = "npgulf";
	char kind = 0;
	long calls = argc == 3 ? atol(argv[2]) : 0;

	for (size_t k = 0; argc == 3 && k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strcmp(argv[1], kinds[k]) == 0)
			kind = codes[k];
	if (!kind || calls <= 0) {
		fprintf(stderr, "usage: nss pwnam|pwuid|grgid|unknown|localtime|f CALLS\n");
		return 2;
	}
	long acc = 0;
	for (long i = 0; i < 64; i++)
		acc += once(kind, i);
	double t0 = now_s();
	for (long i = 0; i < calls; i++)
		acc += once(kind, i);
	double t1 = now_s();
	printf("ns_per_call=%.3f check=%ld\n", (t1 - t0) * 1e9 / (double)calls, acc);
	return 0;
}
