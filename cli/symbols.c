/* `ldmemo symbols PROGRAM [GLOB]`: the function symbols of PROGRAM and the
 * libraries it would load, as a table: what can be named in a config. */
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../symtab/symtab.h"

enum { COL_OBJECT, COL_NAME, COL_BIND, COL_SIZE, COL_VERSION, NCOLS };

struct table {
	char *(*rows)[NCOLS];
	size_t n, cap;
	size_t width[NCOLS];
	const char *glob;
	bool oom;
};

static int add_row(struct table *t, const char *const cells[NCOLS])
{
	size_t c;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		char *(*rows)[NCOLS] = realloc(t->rows, cap * sizeof(*rows));

		if (!rows)
			return -1;
		t->rows = rows;
		t->cap = cap;
	}
	for (c = 0; c < NCOLS; c++) {
		size_t len = strlen(cells[c]);

		t->rows[t->n][c] = strdup(cells[c]);
		if (!t->rows[t->n][c]) {
			while (c > 0)
				free(t->rows[t->n][--c]);
			return -1;
		}
		if (len > t->width[c])
			t->width[c] = len;
	}
	t->n++;
	return 0;
}

static int on_symbol(const struct lm_symbol *s, void *arg)
{
	struct table *t = arg;
	char size[32], version[256];
	const char *cells[NCOLS];

	if (fnmatch(t->glob, s->name, 0) != 0)
		return 0;
	snprintf(size, sizeof(size), "%" PRIu64, s->size);
	if (s->version)
		snprintf(version, sizeof(version), "%s%s", s->default_version ? "@@" : "@",
		         s->version);
	else
		snprintf(version, sizeof(version), "-");
	cells[COL_OBJECT] = s->obj->path;
	cells[COL_NAME] = s->name;
	cells[COL_BIND] = s->type == LM_SYM_IFUNC
	                      ? (s->bind == LM_BIND_WEAK ? "weak,ifunc" : "global,ifunc")
	                      : lm_bind_name(s->bind);
	cells[COL_SIZE] = size;
	cells[COL_VERSION] = version;
	if (add_row(t, cells) != 0) {
		t->oom = true;
		return 1;
	}
	return 0;
}

static void print_table(const struct table *t)
{
	size_t r, c;

	for (r = 0; r < t->n; r++) {
		for (c = 0; c < NCOLS; c++) {
			const char *cell = t->rows[r][c];

			if (c == NCOLS - 1)
				printf("%s\n", cell);
			else if (c == COL_SIZE)
				printf("%*s  ", (int)t->width[c], cell);
			else
				printf("%-*s  ", (int)t->width[c], cell);
		}
	}
}

static void free_table(struct table *t)
{
	size_t r, c;

	for (r = 0; r < t->n; r++)
		for (c = 0; c < NCOLS; c++)
			free(t->rows[r][c]);
	free(t->rows);
}

int lm_cmd_symbols(int argc, char **argv)
{
	static const char *const header[NCOLS] = {"OBJECT", "NAME", "BIND", "SIZE", "VERSION"};
	struct table t = {0};
	struct lm_objset set;
	char program[PATH_MAX], err[512];
	size_t i;
	int rc = 0;

	if (argc >= 2 && strcmp(argv[1], "--") == 0) {
		argc--;
		argv++;
	}
	if (argc < 2 || argc > 3)
		return lm_cli_usage_error("usage: ldmemo symbols PROGRAM [GLOB]");
	if (argv[1][0] == '-' && argv[1][1])
		return lm_cli_usage_error("symbols: unknown option '%s'", argv[1]);
	t.glob = argc == 3 ? argv[2] : "*";
	lm_cli_find_program(argv[1], program, sizeof(program));
	if (lm_objset_offline(program, &set, err, sizeof(err)) != 0) {
		fprintf(stderr, "ldmemo: %s\n", err);
		return 1;
	}
	for (i = 0; i < set.nmissing; i++)
		fprintf(stderr, "ldmemo: warning: %s: library not found\n", set.missing[i]);
	if (add_row(&t, header) != 0)
		t.oom = true;
	for (i = 0; i < set.n && !t.oom; i++)
		if (lm_symtab_each(&set.v[i], on_symbol, &t) < 0)
			t.oom = true;
	if (t.oom) {
		fprintf(stderr, "ldmemo: out of memory\n");
		rc = 1;
	} else {
		print_table(&t);
	}
	free_table(&t);
	lm_objset_free(&set);
	return rc;
}
