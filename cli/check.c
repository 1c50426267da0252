/* `ldmemo check [-c CONFIG] PROGRAM`: validate the config, then resolve
 * every method in the objects PROGRAM would load and say how the shim would
 * hook it, from the files alone. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "../config/config.h"
#include "../config/defaults.h"
#include "../shim/hook.h"
#include "../symtab/symtab.h"

/* Bytes of a function analysed at most: enough for any prologue and for
 * branches back into it from a function of ordinary size. */
#define LM_CHECK_CODE_MAX (64u << 10)

enum { C_NAME, C_OBJECT, C_ADDR, C_BIND, C_SIZE, C_HOOK, NCOLS };

struct row {
	char *cell[NCOLS];
	char *warnings; /* "  warning: ...\n" lines, or NULL */
};

struct report {
	struct row *rows;
	size_t n;
	size_t width[NCOLS];
};

static void print_diags(const struct lm_config *cfg, const struct lm_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		char buf[1024];

		lm_diag_format(cfg, &d->v[i], buf, sizeof(buf));
		fprintf(stderr, "%s\n", buf);
	}
}

/* Can calls reach the function through a GOT slot? Only calls from other
 * objects do: the function must be exported and something must import it. */
static bool got_possible(const struct lm_objset *set, const struct lm_symbol *s, char *why,
                         size_t len)
{
	if (!s->exported) {
		snprintf(why, len, "a static function has no GOT slot");
		return false;
	}
	if (s->obj->is_main && !lm_symtab_is_imported(set, s->name, s->obj)) {
		snprintf(why, len, "the program's own calls do not go through a GOT");
		return false;
	}
	return true;
}

static bool detour_possible(const struct lm_symbol *s, char *why, size_t len)
{
	uint64_t n = s->next_addr > s->value ? s->next_addr - s->value : s->size;
	unsigned char *code;
	long got;
	int rc;

	if (n < s->size)
		n = s->size;
	if (n > LM_CHECK_CODE_MAX)
		n = LM_CHECK_CODE_MAX;
	if (n == 0) {
		snprintf(why, len, "the function's size is unknown");
		return false;
	}
	code = malloc(n);
	if (!code) {
		snprintf(why, len, "out of memory");
		return false;
	}
	got = lm_object_read(s->obj, s->value, code, n);
	if (got <= 0) {
		snprintf(why, len, "the function's bytes are not in the file");
		free(code);
		return false;
	}
	rc = lm_detour_check(code, (size_t)got, (uintptr_t)s->value, s->size,
	                     (uintptr_t)s->next_addr, why, len);
	free(code);
	return rc == 0;
}

/* HOOK cell for a found symbol; false when it cannot be hooked. */
static bool judge(const struct lm_objset *set, enum lm_hook_kind mode, const struct lm_symbol *s,
                  char *out, size_t len)
{
	char why[256] = "", gwhy[256] = "";
	bool detour, got;

	if (s->type == LM_SYM_IFUNC && mode != LM_HOOK_GOT) {
		snprintf(out, len, "detour (IFUNC: decided at run time)");
		return true;
	}
	got = got_possible(set, s, gwhy, sizeof(gwhy));
	if (mode == LM_HOOK_GOT) {
		if (got)
			snprintf(out, len, "got");
		else
			snprintf(out, len, "not hookable: %s", gwhy);
		return got;
	}
	detour = detour_possible(s, why, sizeof(why));
	if (detour)
		snprintf(out, len, "detour");
	else if (mode == LM_HOOK_AUTO && got)
		snprintf(out, len, "got (detour refused: %s)", why);
	else
		snprintf(out, len, "not hookable: %s", why);
	return detour || (mode == LM_HOOK_AUTO && got);
}

static int appendf(char **buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int appendf(char **buf, const char *fmt, ...)
{
	size_t old = *buf ? strlen(*buf) : 0;
	char line[1024];
	char *p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	p = realloc(*buf, old + strlen(line) + 1);
	if (!p)
		return -1;
	memcpy(p + old, line, strlen(line) + 1);
	*buf = p;
	return 0;
}

static int list_names(char **buf, const char *what, char **names, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	if (appendf(buf, "  warning: %s", what) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (appendf(buf, "%s%s", i ? ", " : " ", names[i]) != 0)
			return -1;
	return appendf(buf, "\n");
}

static int warnings(const struct lm_symbol *s, char **buf)
{
	if (list_names(buf, "compiler clones exist (their callers are not cached):", s->clones,
	               s->nclones) != 0 ||
	    (s->type != LM_SYM_IFUNC &&
	     list_names(buf, "same code under other names (hooked once for all):", s->aliases,
	                s->naliases) != 0))
		return -1;
	if (s->type == LM_SYM_IFUNC &&
	    appendf(buf, "  warning: IFUNC: the resolver picks the implementation at run "
	                 "time; that one is hooked\n") != 0)
		return -1;
	/* Only a function shorter than a detour's jump needs the padding. */
	if (!s->obj->has_symtab && s->size < 16 &&
	    appendf(buf, "  warning: %s is stripped: padding after the function is not trusted\n",
	            s->obj->path) != 0)
		return -1;
	return 0;
}

static int set_cells(struct row *r, const char *const cells[NCOLS])
{
	size_t c;

	for (c = 0; c < NCOLS; c++)
		if (!(r->cell[c] = strdup(cells[c])))
			return -1;
	return 0;
}

/* One row for method M; *OK false when it cannot be hooked. */
static int resolve(const struct lm_config *cfg, const struct lm_method *m,
                   const struct lm_objset *set, struct row *r, bool *ok)
{
	const char *cells[NCOLS];
	char name[512], addr[32], size[32], hook[512];
	struct lm_symbol s;
	enum lm_find_status st;
	int rc;

	snprintf(name, sizeof(name), "%s%s%s", m->name, m->version ? "@" : "",
	         m->version ? m->version : "");
	cells[C_NAME] = name;
	st = lm_symtab_find(set, m->name, m->version, m->object, &s);
	if (st != LM_FIND_OK) {
		snprintf(hook, sizeof(hook), "not hookable: %s%s%s", lm_find_status_name(st),
		         m->object ? " in " : "", m->object ? m->object : "");
		cells[C_OBJECT] = cells[C_ADDR] = cells[C_BIND] = cells[C_SIZE] = "-";
		cells[C_HOOK] = hook;
		*ok = false;
		return set_cells(r, cells);
	}
	*ok = judge(set, lm_method_hook(cfg, m), &s, hook, sizeof(hook));
	snprintf(addr, sizeof(addr), "0x%" PRIx64, s.value);
	snprintf(size, sizeof(size), "%" PRIu64, s.size);
	cells[C_OBJECT] = s.obj->path;
	cells[C_ADDR] = addr;
	cells[C_BIND] = lm_bind_name(s.bind);
	cells[C_SIZE] = size;
	cells[C_HOOK] = hook;
	rc = set_cells(r, cells);
	if (rc == 0)
		rc = warnings(&s, &r->warnings);
	lm_symbol_free(&s);
	return rc;
}

static void print_report(const struct report *rep)
{
	size_t i, c;

	for (i = 0; i < rep->n; i++) {
		const struct row *r = &rep->rows[i];

		for (c = 0; c < NCOLS; c++) {
			if (c == NCOLS - 1)
				printf("%s\n", r->cell[c]);
			else if (c == C_SIZE)
				printf("%*s  ", (int)rep->width[c], r->cell[c]);
			else
				printf("%-*s  ", (int)rep->width[c], r->cell[c]);
		}
		if (r->warnings)
			fputs(r->warnings, stdout);
	}
}

static void free_report(struct report *rep)
{
	size_t i, c;

	for (i = 0; i < rep->n; i++) {
		for (c = 0; c < NCOLS; c++)
			free(rep->rows[i].cell[c]);
		free(rep->rows[i].warnings);
	}
	free(rep->rows);
}

static int check_methods(const struct lm_config *cfg, const struct lm_objset *set)
{
	static const char *const header[NCOLS] = {"METHOD", "OBJECT", "ADDRESS",
	                                          "BIND",   "SIZE",   "HOOK"};
	struct report rep = {0};
	bool all = true;
	size_t i, c;
	int rc = 0;

	rep.rows = calloc(cfg->nmethods + 1, sizeof(*rep.rows));
	if (!rep.rows || set_cells(&rep.rows[0], header) != 0)
		rc = -1;
	rep.n = rep.rows ? 1 : 0;
	for (i = 0; i < cfg->nmethods && rc == 0; i++) {
		bool ok = true;

		rc = resolve(cfg, &cfg->methods[i], set, &rep.rows[rep.n++], &ok);
		all &= ok;
	}
	if (rc != 0) {
		fprintf(stderr, "ldmemo: out of memory\n");
		free_report(&rep);
		return 1;
	}
	for (i = 0; i < rep.n; i++)
		for (c = 0; c < NCOLS; c++)
			if (strlen(rep.rows[i].cell[c]) > rep.width[c])
				rep.width[c] = strlen(rep.rows[i].cell[c]);
	print_report(&rep);
	free_report(&rep);
	for (i = 0; i < cfg->ntypes; i++)
		printf("type %s: sizeof %zu, align %zu\n", cfg->types[i].name, cfg->types[i].size,
		       cfg->types[i].align);
	return all ? 0 : 1;
}

int lm_cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {NULL, 0, NULL, 0}};
	const char *config = getenv(LM_ENV_CONFIG);
	struct lm_config cfg;
	struct lm_diags diags = {0};
	struct lm_objset set;
	char program[PATH_MAX], err[512];
	int opt, errors, rc;
	size_t i;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+c:", opts, NULL)) != -1) {
		if (opt != 'c')
			return lm_cli_usage_error("usage: ldmemo check [-c CONFIG] PROGRAM");
		config = optarg;
	}
	if (argc - optind != 1)
		return lm_cli_usage_error("usage: ldmemo check [-c CONFIG] PROGRAM");
	if (!config || !*config) {
		fprintf(stderr, "ldmemo: check: no config: give -c CONFIG or set %s\n",
		        LM_ENV_CONFIG);
		return 2;
	}
	memset(&cfg, 0, sizeof(cfg));
	errors = lm_config_load(config, &cfg, &diags);
	print_diags(&cfg, &diags);
	if (errors != 0) {
		if (errors < 0)
			fprintf(stderr, "ldmemo: out of memory\n");
		lm_diags_free(&diags);
		lm_config_free(&cfg);
		return 2;
	}
	lm_cli_find_program(argv[optind], program, sizeof(program));
	if (lm_objset_offline(program, &set, err, sizeof(err)) != 0) {
		fprintf(stderr, "ldmemo: %s\n", err);
		lm_diags_free(&diags);
		lm_config_free(&cfg);
		return 1;
	}
	for (i = 0; i < set.nmissing; i++)
		fprintf(stderr, "ldmemo: warning: %s: library not found\n", set.missing[i]);
	if (!set.v[0].has_symtab)
		printf("warning: %s is stripped: its static functions cannot be found\n",
		       set.v[0].path);
	rc = check_methods(&cfg, &set);
	lm_objset_free(&set);
	lm_diags_free(&diags);
	lm_config_free(&cfg);
	return rc;
}
