#include "trust.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool owner_ok(const struct stat *st, uid_t me)
{
	return st->st_uid == 0 || st->st_uid == me;
}

/* The file itself: no write bit beyond the owner's, sticky or not. */
static int check_file(const char *path, const struct stat *st, uid_t me, char *why, size_t len)
{
	unsigned mode = st->st_mode & 07777;
	if (st->st_mode & S_IWOTH)
		snprintf(why, len, "%s: refusing a config writable by others (mode %04o)", path,
		         mode);
	else if (st->st_mode & S_IWGRP)
		snprintf(why, len, "%s: refusing a config writable by its group (mode %04o)", path,
		         mode);
	else if (!owner_ok(st, me))
		snprintf(why, len, "%s: refusing a config owned by another user (uid %u)", path,
		         (unsigned)st->st_uid);
	else
		return 0;
	return -1;
}

/* A directory on the way: whoever can write it can replace the file, unless
 * the sticky bit keeps them to their own entries. */
static int check_dir(const char *path, const char *dir, const struct stat *st, uid_t me, char *why,
                     size_t len)
{
	unsigned mode = st->st_mode & 07777;
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
		snprintf(why, len,
		         "%s: refusing a config in %s, a directory writable by %s (mode %04o)",
		         path, dir, st->st_mode & S_IWOTH ? "others" : "its group", mode);
	else if (!owner_ok(st, me))
		snprintf(why, len,
		         "%s: refusing a config in %s, a directory owned by another user (uid %u)",
		         path, dir, (unsigned)st->st_uid);
	else
		return 0;
	return -1;
}

int lm_trust_check(const char *path, char *why, size_t whylen)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return 0;
	uid_t me = geteuid();
	if (check_file(path, &st, me, why, whylen) != 0)
		return -1;
	/* The directories of the real path: those of a symlink's own path
	 * matter less, since the target is what gets read. */
	char *dir = realpath(path, NULL);
	if (!dir)
		return 0;
	int rc = 0;
	char *slash;
	while (rc == 0 && (slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir && slash[1] == '\0')
			break;
		slash[slash == dir ? 1 : 0] = '\0';
		if (stat(dir, &st) == 0)
			rc = check_dir(path, dir, &st, me, why, whylen);
	}
	free(dir);
	return rc;
}
