/* The user service: each function runs its SQL statement against the
 * database. Statements are prepared once and reused, as a tuned service
 * does, so what remains is the cost of the queries themselves. */
#include "userdb.h"

#include <pthread.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DB "build/examples/users.db"

enum stmt { ST_GET, ST_NAME, ST_DEPT, ST_UPDATE, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {
    [ST_GET] = "SELECT id, name, email, dept, created FROM users WHERE id = ?1",
    [ST_NAME] = "SELECT name FROM users WHERE id = ?1",
    [ST_DEPT] = "SELECT name FROM users WHERE dept = ?1 ORDER BY id",
    [ST_UPDATE] = "UPDATE users SET name = ?2 WHERE id = ?1",
};

static pthread_mutex_t db_lock = PTHREAD_MUTEX_INITIALIZER;
static sqlite3 *db;
static sqlite3_stmt *stmts[ST_COUNT];

/* Opens the database and prepares the statements on first use; called with
 * db_lock held. Returns 0, or -1 after printing why. */
static int db_ready(void)
{
	if (db)
		return 0;
	const char *path = getenv("USERDB_PATH");
	if (!path || !*path)
		path = DEFAULT_DB;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto fail;
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts[i],
		                       NULL) != SQLITE_OK)
			goto fail;
	return 0;
fail:
	fprintf(stderr, "userdb: %s: %s\n", path, db ? sqlite3_errmsg(db) : "cannot open");
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
	sqlite3_close(db);
	db = NULL;
	return -1;
}

/* The statement S, reset and ready for new bindings, or NULL; takes db_lock,
 * which done() releases. */
static sqlite3_stmt *begin(enum stmt s)
{
	pthread_mutex_lock(&db_lock);
	if (db_ready() < 0) {
		pthread_mutex_unlock(&db_lock);
		return NULL;
	}
	sqlite3_reset(stmts[s]);
	sqlite3_clear_bindings(stmts[s]);
	return stmts[s];
}

static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	pthread_mutex_unlock(&db_lock);
}

static void copy_text(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, cap, "%s", t ? (const char *)t : "");
}

int get_user(long id, struct user *out)
{
	memset(out, 0, sizeof *out);
	sqlite3_stmt *st = begin(ST_GET);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	int ret = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : -1;
	if (ret == 0) {
		out->id = sqlite3_column_int64(st, 0);
		copy_text(out->name, sizeof out->name, st, 1);
		copy_text(out->email, sizeof out->email, st, 2);
		copy_text(out->dept, sizeof out->dept, st, 3);
		out->created = sqlite3_column_int64(st, 4);
	}
	done(st);
	return ret;
}

char *user_name(long id)
{
	sqlite3_stmt *st = begin(ST_NAME);
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	char *name = NULL;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		name = strdup(t ? (const char *)t : "");
	}
	done(st);
	return name;
}

int list_users_by_dept(const char *dept, char *buf, size_t len)
{
	if (len == 0)
		return -1;
	buf[0] = '\0';
	sqlite3_stmt *st = begin(ST_DEPT);
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, dept, -1, SQLITE_TRANSIENT);
	size_t used = 0;
	int n = 0, rc;
	bool full = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		const char *name = (const char *)sqlite3_column_text(st, 0);
		size_t need = strlen(name ? name : "") + (used ? 1 : 0);
		if (full || used + need >= len) {
			full = true;
			continue;
		}
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "," : "",
		                         name ? name : "");
	}
	done(st);
	return rc == SQLITE_DONE ? n : -1;
}

int update_user(long id, const char *name)
{
	sqlite3_stmt *st = begin(ST_UPDATE);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	int ok = sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(db) == 1;
	done(st);
	return ok ? 0 : -1;
}
