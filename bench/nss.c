/* Struct-result driver: one libc lookup with a static result in a tight
 * loop, timed inside the process around the loop only (the first calls,
 * which fill every cache, are outside it).
 *
 *   nss KIND CALLS
 *
 * KIND: pwnam (getpwnam("root")), pwuid (getpwuid(0)), grgid
 * (getgrgid(0)), unknown (getpwnam of a name no database has), localtime
 * (localtime of one fixed time), f (long f(long) of libbenchfn.so, the
 * scalar anchor). Misses, a new key on every call: localtime-miss
 * (localtime of one second later each time), pwnam-miss (nss_user, a
 * getpwnam-shaped function of this program that answers at once, of
 * "u0", "u1", ...). Each iteration reads a field of the result, as a caller
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

/* A getpwnam that answers at once: the miss path's own cost shows. */
__attribute__((noinline, visibility("default"))) struct passwd *nss_user(const char *name)
{
	static struct passwd pw;
	static char dir[32];
	size_t n = strlen(name);
	memcpy(dir, "/home/", 6);
	memcpy(dir + 6, name, n + 1 < sizeof dir - 6 ? n + 1 : sizeof dir - 6);
	dir[sizeof dir - 1] = 0;
	pw = (struct passwd){.pw_name = (char *)name,
	                     .pw_passwd = "x",
	                     .pw_uid = (uid_t)n,
	                     .pw_gid = 100,
	                     .pw_gecos = "",
	                     .pw_dir = dir,
	                     .pw_shell = "/bin/sh"};
	return &pw;
}

/* "u" and I in decimal into B. */
static const char *user_name(char *b, long i)
{
	char d[24];
	int n = 0;
	do
		d[n++] = (char)('0' + i % 10);
	while ((i /= 10) != 0);
	b[0] = 'u';
	for (int j = 0; j < n; j++)
		b[1 + j] = d[n - 1 - j];
	b[1 + n] = 0;
	return b;
}

static long once(char kind, long i)
{
	char name[32];
	time_t lt;
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
	case 'L':
		lt = t + i;
		tm = localtime(&lt);
		return tm ? tm->tm_sec : -1;
	case 'N':
		pw = nss_user(user_name(name, i));
		return pw ? pw->pw_dir[6] : -1;
	default:
		return f(i & 63);
	}
}

int main(int argc, char **argv)
{
	static const char *const kinds[] = {"pwnam",     "pwuid", "grgid",          "unknown",
	                                    "localtime", "f",     "localtime-miss", "pwnam-miss"};
	static const char codes[] = "npgulfLN";
	char kind = 0;
	long calls = argc == 3 ? atol(argv[2]) : 0;

	for (size_t k = 0; argc == 3 && k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strcmp(argv[1], kinds[k]) == 0)
			kind = codes[k];
	if (!kind || calls <= 0) {
		fprintf(stderr, "usage: nss pwnam|pwuid|grgid|unknown|localtime|f|localtime-miss|"
		                "pwnam-miss CALLS\n");
		return 2;
	}
	long acc = 0;
	for (long i = 0; i < 64; i++)
		acc += once(kind, i);
	double t0 = now_s();
	for (long i = 0; i < calls; i++)
		acc += once(kind, 64 + i); /* new keys for the miss kinds */
	double t1 = now_s();
	printf("ns_per_call=%.3f check=%ld\n", (t1 - t0) * 1e9 / (double)calls, acc);
	return 0;
}
