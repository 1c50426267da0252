/* A small user service over a SQLite database: the example backend that
 * ldmemo memoizes in `make demo`. Every call runs a real SQL query, the way a
 * service without a cache does. The database path is $USERDB_PATH, else
 * build/examples/users.db; it is opened on the first call. */
#ifndef USERDB_H
#define USERDB_H

#include <stddef.h>
#include <stdint.h>

/* Fixed-size fields and no pointers, so ldmemo can store a result whole
 * (`out(user)` with a [type user] section). */
struct user {
	int64_t id;
	char name[48];
	char email[64];
	char dept[24];
	int64_t created; /* Unix time */
};

/* Fills *OUT (zeroed first) with user ID. Returns 0 when found, 1 when there
 * is no such user, -1 on a database error. */
int get_user(long id, struct user *out);

/* The name of user ID as a malloc'd string the caller frees; NULL when there
 * is no such user or on error. */
char *user_name(long id);

/* Writes the names of the users in DEPT, in id order and comma-separated, to
 * BUF (LEN bytes, always NUL-terminated, cut after the last name that fits).
 * Returns how many users DEPT has, or -1 on error. The dept column has no
 * index: every call scans the table. */
int list_users_by_dept(const char *dept, char *buf, size_t len);

/* Renames user ID. Returns 0 when a row changed, -1 otherwise. */
int update_user(long id, const char *name);

#endif
