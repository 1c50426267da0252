#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decimal.h"

static bool owner_ok(const struct stat *st, uid_t me)
{
	return st->st_uid == 0 || st->st_uid == me;
}

static const char *kind_of(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	default:
		return "not a regular file";
	}
}

/* The file itself: regular, no write bit beyond the owner's, sticky or
 * not. */
static int check_file(const char *path, const char *what, const struct stat *st, uid_t me,
                      char *why, size_t len)
{
	unsigned mode = st->st_mode & 07777;
	if (!S_ISREG(st->st_mode))
		snprintf(why, len, "%s: refusing a %s that is %s", path, what,
		         kind_of(st->st_mode));
	else if (st->st_mode & S_IWOTH)
		snprintf(why, len, "%s: refusing a %s writable by others (mode %04o)", path, what,
		         mode);
	else if (st->st_mode & S_IWGRP)
		snprintf(why, len, "%s: refusing a %s writable by its group (mode %04o)", path,
		         what, mode);
	else if (!owner_ok(st, me))
		snprintf(why, len, "%s: refusing a %s owned by another user (uid %u)", path, what,
		         (unsigned)st->st_uid);
	else
		return 0;
	return -1;
}

/* A directory on the way: whoever can write it can replace the file, unless
 * the sticky bit keeps them to their own entries. */
static int check_dir(const char *path, const char *what, const char *dir, const struct stat *st,
                     uid_t me, char *why, size_t len)
{
	unsigned mode = st->st_mode & 07777;
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(st->st_mode & S_ISVTX))
		snprintf(why, len,
		         "%s: refusing a %s in %s, a directory writable by %s (mode %04o)", path,
		         what, dir, st->st_mode & S_IWOTH ? "others" : "its group", mode);
	else if (!owner_ok(st, me))
		snprintf(why, len,
		         "%s: refusing a %s in %s, a directory owned by another user (uid %u)",
		         path, what, dir, (unsigned)st->st_uid);
	else
		return 0;
	return -1;
}

/* The real path of the file FD holds: through /proc (the file opened, not
 * whatever PATH names now), else PATH resolved. Empty when neither works. */
static void real_path(int fd, const char *path, char *out, size_t len)
{
	char proc[sizeof "/proc/self/fd/" + LM_DECIMAL_MAX] = "/proc/self/fd/";
	lm_decimal(proc + sizeof "/proc/self/fd/" - 1, (uint64_t)fd);
	ssize_t n = readlink(proc, out, len - 1);
	if (n > 0 && out[0] == '/') {
		out[n] = '\0';
		return;
	}
	char *r = realpath(path, NULL);
	snprintf(out, len, "%s", r ? r : "");
	free(r);
}

static int check_dirs(int fd, const char *path, const char *what, uid_t me, char *why, size_t len)
{
	char dir[PATH_MAX];
	real_path(fd, path, dir, sizeof dir);
	char *slash;
	struct stat st;
	while ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir && slash[1] == '\0')
			break;
		slash[slash == dir ? 1 : 0] = '\0';
		if (stat(dir, &st) == 0 && check_dir(path, what, dir, &st, me, why, len) != 0)
			return -1;
	}
	return 0;
}

int lm_trust_open(const char *path, const char *what, char *why, size_t whylen)
{
	if (whylen)
		why[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	uid_t me = geteuid();
	struct stat st;
	int flags;
	if (fstat(fd, &st) != 0 || check_file(path, what, &st, me, why, whylen) != 0 ||
	    check_dirs(fd, path, what, me, why, whylen) != 0 || (flags = fcntl(fd, F_GETFL)) < 0 ||
	    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}
