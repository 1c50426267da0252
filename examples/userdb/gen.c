/* Makes the demo's data: a SQLite database of users and a request log with a
 * skewed (Zipf) popularity, as real traffic has: a few users are asked for
 * all the time, most rarely. The output depends only on the arguments (own
 * PRNG, fixed seed), so every machine replays the same log.
 *
 *   gen DB LOG USERS REQUESTS [SEED]
 */
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define UPDATES   20  /* renames, spread evenly through the log */
#define MISSING   200 /* ids past the last user, asked for now and then */
#define ZIPF_S    1.0 /* popularity exponent */
#define MAX_USERS 1000000

static const char *const firsts[] = {
    "Ada",     "Alan",  "Barbara", "Brian",    "Claude",    "Dennis",   "Donald", "Edsger",
    "Frances", "Grace", "Guido",   "Hedy",     "Ivan",      "Jean",     "John",   "Ken",
    "Leslie",  "Linus", "Lynn",    "Margaret", "Niklaus",   "Radia",    "Rob",    "Shafi",
    "Sophie",  "Tim",   "Tony",    "Vint",     "Whitfield", "Yukihiro",
};
static const char *const lasts[] = {
    "Allen",      "Backus",   "Cerf",   "Dijkstra", "Engelbart", "Floyd",   "Goldwasser",
    "Hamilton",   "Hoare",    "Hopper", "Kay",      "Knuth",     "Lamport", "Liskov",
    "McCarthy",   "Moore",    "Naur",   "Perlman",  "Pike",      "Ritchie", "Stroustrup",
    "Sutherland", "Thompson", "Turing", "Wirth",    "Yao",
};
static const char *const depts[] = {
    "sales",  "marketing", "engineering", "support",  "finance",    "legal",
    "people", "ops",       "research",    "design",   "security",   "data",
    "infra",  "qa",        "docs",        "billing",  "growth",     "mobile",
    "web",    "platform",  "partners",    "training", "facilities", "procurement",
};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t rng_state;

/* splitmix64: small, good enough, and the same everywhere. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rnd_unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

static void die(const char *what, sqlite3 *db)
{
	fprintf(stderr, "gen: %s: %s\n", what, db ? sqlite3_errmsg(db) : "failed");
	exit(1);
}

static void make_db(const char *path, long users)
{
	sqlite3 *db;
	unlink(path);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		die(path, db);
	/* No index on dept: listing a department scans the table. */
	if (sqlite3_exec(db,
	                 "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
	                 " email TEXT NOT NULL, dept TEXT NOT NULL, created INTEGER NOT NULL);"
	                 "BEGIN",
	                 NULL, NULL, NULL) != SQLITE_OK)
		die("create", db);
	sqlite3_stmt *ins;
	if (sqlite3_prepare_v2(db, "INSERT INTO users VALUES (?1, ?2, ?3, ?4, ?5)", -1, &ins,
	                       NULL) != SQLITE_OK)
		die("insert", db);
	for (long id = 1; id <= users; id++) {
		const char *f = firsts[rnd() % N_OF(firsts)], *l = lasts[rnd() % N_OF(lasts)];
		char name[48], email[64];
		snprintf(name, sizeof name, "%s %s", f, l);
		snprintf(email, sizeof email, "%c.%s%ld@example.com", f[0] | 0x20, l, id);
		for (char *p = email; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p |= 0x20;
		sqlite3_bind_int64(ins, 1, id);
		sqlite3_bind_text(ins, 2, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 3, email, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ins, 4, depts[rnd() % N_OF(depts)], -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 5, 1400000000 + (int64_t)(rnd() % 300000000));
		if (sqlite3_step(ins) != SQLITE_DONE)
			die("insert", db);
		sqlite3_reset(ins);
	}
	sqlite3_finalize(ins);
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		die("commit", db);
	sqlite3_close(db);
}

/* Index of the first CDF entry >= U. */
static long pick(const double *cdf, long n, double u)
{
	long lo = 0, hi = n - 1;
	while (lo < hi) {
		long mid = (lo + hi) / 2;
		if (cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The cumulative Zipf distribution over N ranks, or NULL. */
static double *zipf_cdf(long n)
{
	double *cdf = malloc((size_t)n * sizeof *cdf), sum = 0;
	if (!cdf)
		return NULL;
	for (long i = 0; i < n; i++)
		cdf[i] = sum += 1.0 / pow((double)(i + 1), ZIPF_S);
	for (long i = 0; i < n; i++)
		cdf[i] /= sum;
	return cdf;
}

static void make_log(const char *path, long users, long requests)
{
	FILE *f = fopen(path, "w");
	double *cdf = zipf_cdf(users), *dept_cdf = zipf_cdf(N_OF(depts));
	long *id_of_rank = malloc((size_t)users * sizeof *id_of_rank);
	if (!f || !cdf || !dept_cdf || !id_of_rank)
		die(path, NULL);
	/* Popularity rank -> id through a shuffle, so hot users are spread out. */
	for (long i = 0; i < users; i++)
		id_of_rank[i] = i + 1;
	for (long i = users - 1; i > 0; i--) {
		long j = (long)(rnd() % (uint64_t)(i + 1)), t = id_of_rank[i];
		id_of_rank[i] = id_of_rank[j];
		id_of_rank[j] = t;
	}

	long every = requests / (UPDATES + 1), updates = 0;
	for (long r = 1; r <= requests; r++) {
		long id = id_of_rank[pick(cdf, users, rnd_unit())];
		double u = rnd_unit();
		if (every > 0 && r % every == 0 && updates < UPDATES) {
			/* Rename one of the hottest users: it is asked for again soon. */
			fprintf(f, "update %ld Zed %s\n", id_of_rank[updates % users],
			        lasts[rnd() % N_OF(lasts)]);
			updates++;
		} else if (u < 0.004) {
			fprintf(f, "dept %s\n", depts[pick(dept_cdf, N_OF(depts), rnd_unit())]);
		} else if (u < 0.01) {
			fprintf(f, "get %ld\n", users + 1 + (long)(rnd() % MISSING));
		} else if (u < 0.55) {
			fprintf(f, "get %ld\n", id);
		} else {
			fprintf(f, "name %ld\n", id);
		}
	}
	free(cdf);
	free(dept_cdf);
	free(id_of_rank);
	if (fclose(f) != 0)
		die(path, NULL);
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 6) {
		fprintf(stderr, "usage: gen DB LOG USERS REQUESTS [SEED]\n");
		return 2;
	}
	long users = atol(argv[3]), requests = atol(argv[4]);
	if (users < 1 || users > MAX_USERS || requests < 1) {
		fprintf(stderr, "gen: USERS must be 1..%d and REQUESTS at least 1\n", MAX_USERS);
		return 2;
	}
	rng_state = argc == 6 ? strtoull(argv[5], NULL, 0) : 20240611;
	make_db(argv[1], users);
	make_log(argv[2], users, requests);
	return 0;
}
