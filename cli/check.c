/* `ldmemo check [-c CONFIG] PROGRAM`: validate the config, then resolve
 * every method in the objects PROGRAM would load and say how the shim would
 * hook it, from the files alone. Where an object has DWARF, each signature
 * is compared with the function's prototype (parameter count, each one's
 * class and width) and each [type] with the struct of its name (sizeof,
 * member offsets and kinds). */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config/config.h"
#include "config/defaults.h"
#include "shim/arch/x86_64/reloc.h"
#include "shim/base/trust.h"
#include "shim/proto/compare.h"
#include "symtab/dwarf.h"
#include "symtab/symtab.h"

/* Bytes of a function analysed at most: enough for any prologue and for
 * branches back into it from a function of ordinary size. */
#define LM_CHECK_CODE_MAX (64u << 10)

#define CHECK_USAGE "usage: ldmemo check [-c CONFIG] PROGRAM"

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
		fprintf(stderr, "ldmemo: %s\n", buf);
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

static int list_names(char **buf, const char *what, char **names, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	if (lm_proto_appendf(buf, "  warning: %s", what) != 0)
		return -1;
	for (i = 0; i < n; i++)
		if (lm_proto_appendf(buf, "%s%s", i ? ", " : " ", names[i]) != 0)
			return -1;
	return lm_proto_appendf(buf, "\n");
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
	    lm_proto_appendf(buf, "  warning: IFUNC: the resolver picks the implementation at run "
	                          "time; that one is hooked\n") != 0)
		return -1;
	/* Only a function shorter than a detour's jump needs the padding. */
	if (!s->obj->has_symtab && s->size < 16 &&
	    lm_proto_appendf(
	        buf, "  warning: %s is stripped: padding after the function is not trusted\n",
	        s->obj->path) != 0)
		return -1;
	return 0;
}

/* ---- Against DWARF ------------------------------------------------------- */

/* The debug information of each object of the set, opened on first use. */
struct dwinfo {
	const struct lm_objset *set;
	struct lm_dwarf **dw;
	bool *tried;
	size_t errors; /* mismatches found */
};

static struct lm_dwarf *dwarf_of(struct dwinfo *di, const struct lm_object *o, char *why,
                                 size_t len)
{
	size_t i = (size_t)(o - di->set->v);

	if (!di->tried[i]) {
		di->tried[i] = true;
		di->dw[i] = lm_dwarf_open(o->path, NULL, why, len);
	} else if (!di->dw[i]) {
		snprintf(why, len, "no debug information");
	}
	return di->dw[i];
}

/* Compare method M's signature with the prototype in S's object. */
static int check_prototype(struct dwinfo *di, const char *file, const struct lm_method *m,
                           const struct lm_symbol *s, char **buf)
{
	const struct lm_cfunc *f;
	struct lm_dwarf *dw;
	char why[512], proto[1024];
	int errs;

	dw = dwarf_of(di, s->obj, why, sizeof(why));
	if (!dw)
		return lm_proto_appendf(buf, "  note: %s: %s: the signature is not compared\n",
		                        s->obj->path, why);
	f = lm_dwarf_func(dw, m->name);
	if (f && lm_proto_unreliable(f))
		f = NULL;
	if (!f)
		return lm_proto_appendf(buf,
		                        "  note: no prototype of %s in the debug information: the "
		                        "signature is not compared\n",
		                        m->name);
	errs = lm_proto_compare(file, m, f, buf);
	if (errs < 0)
		return -1;
	if (errs) {
		lm_proto_describe(f, proto, sizeof(proto));
		di->errors += (size_t)errs;
		return lm_proto_appendf(buf, "  DWARF (%s): %s\n", lm_dwarf_source(dw), proto);
	}
	return 0;
}

/* ---- [type] against a DWARF struct ---- */

static uint64_t member_size(const struct lm_cmember *m)
{
	if (m->bit_size)
		return (m->bit_offset + m->bit_size + 7) / 8 - m->bit_offset / 8;
	return m->type->size;
}

static const struct lm_cmember *member_named(const struct lm_ctype *st, const char *name)
{
	for (size_t i = 0; i < st->nmembers; i++)
		if (st->members[i].name && strcmp(st->members[i].name, name) == 0)
			return &st->members[i];
	return NULL;
}

/* Does field F (config kind) fit member M? 2 no, 1 signedness, 0 yes. */
static int compare_field(const struct lm_config *cfg, const struct lm_field *f,
                         const struct lm_cmember *m)
{
	switch (f->kind) {
	case LM_K_BYTES:
		return member_size(m) == f->nbytes ? 0 : 2;
	case LM_K_STRUCT:
		return m->type->cls == LM_CT_STRUCT && m->type->size == cfg->types[f->type].size
		           ? 0
		           : 2;
	case LM_K_STR:
	case LM_K_STRV:
	case LM_K_PTR:
	case LM_K_STRUCT_PTR:
		return m->type->cls == LM_CT_POINTER ? 0 : 2;
	default:
		return m->bit_size ? 2 : lm_proto_scalar(f->kind, m->type);
	}
}

/* Is a member that the config does not name inside one of its bytes(N)
 * fields (padding kept by `symbols --config`: bitfields, unions)? */
static bool covered(const struct lm_type *t, const struct lm_cmember *m)
{
	uint64_t size = member_size(m);

	if (size == 0)
		return true;
	for (size_t i = 0; i < t->nfields; i++) {
		const struct lm_field *f = &t->fields[i];

		if (f->kind == LM_K_BYTES && m->offset >= f->offset &&
		    m->offset + size <= f->offset + f->nbytes)
			return true;
	}
	return false;
}

static bool has_field(const struct lm_type *t, const char *name)
{
	for (size_t i = 0; i < t->nfields; i++)
		if (strcmp(t->fields[i].name, name) == 0)
			return true;
	return false;
}

static void print_layouts(const struct lm_type *t, const struct lm_ctype *st, const char *src)
{
	printf("  config layout (sizeof %zu):", t->size);
	for (size_t i = 0; i < t->nfields; i++)
		printf("%s %s %s @%zu", i ? "," : "", lm_kind_name(t->fields[i].kind),
		       t->fields[i].name, t->fields[i].offset);
	printf("\n  DWARF layout (sizeof %zu, %s):", (size_t)st->size, src);
	for (size_t i = 0; i < st->nmembers; i++) {
		const struct lm_cmember *m = &st->members[i];

		printf("%s %s %s @%zu", i ? "," : "", m->cname, m->name ? m->name : "(anonymous)",
		       (size_t)m->offset);
		if (m->bit_size)
			printf(":%zu bits", (size_t)m->bit_size);
	}
	printf("\n");
}

/* Compare [type] T with the struct of the same name in the first object
 * whose DWARF has one. */
static void check_type(struct dwinfo *di, const struct lm_config *cfg, const struct lm_type *t)
{
	const struct lm_ctype *st = NULL;
	const char *src = NULL;
	char why[512];
	size_t errs = 0;
	bool any = false;

	for (size_t i = 0; i < di->set->n && !st; i++) {
		struct lm_dwarf *dw = dwarf_of(di, &di->set->v[i], why, sizeof(why));

		if (!dw)
			continue;
		any = true;
		st = lm_dwarf_struct(dw, t->name);
		src = lm_dwarf_source(dw);
	}
	if (!st) {
		printf("  note: %s: the layout is not compared\n",
		       any ? "no struct of that name in the debug information"
		           : "no debug information in the program or its libraries");
		return;
	}
	if (st->size != t->size) {
		printf("  error: sizeof %zu in the config, %zu in DWARF\n", t->size,
		       (size_t)st->size);
		errs++;
	}
	for (size_t i = 0; i < t->nfields; i++) {
		const struct lm_field *f = &t->fields[i];
		const struct lm_cmember *m = member_named(st, f->name);
		char kd[64];
		int how;

		if (!m) {
			if (f->kind != LM_K_BYTES) {
				printf("  error: field '%s': no such member in DWARF\n", f->name);
				errs++;
			}
			continue;
		}
		if (m->offset != f->offset) {
			printf("  error: field '%s': offset %zu in the config, %zu in DWARF\n",
			       f->name, f->offset, (size_t)m->offset);
			errs++;
		}
		how = compare_field(cfg, f, m);
		if (how) {
			if (f->kind == LM_K_BYTES)
				snprintf(kd, sizeof(kd), "bytes(%zu)", f->nbytes);
			else
				lm_proto_kind_desc(f->kind == LM_K_STRUCT_PTR ? LM_K_PTR : f->kind,
				                   kd, sizeof(kd));
			printf("  %s: field '%s': %s in the config, %s (%zu bytes%s) in DWARF\n",
			       how == 2 ? "error" : "warning", f->name, kd, m->cname,
			       (size_t)member_size(m), m->bit_size ? ", a bitfield" : "");
			errs += how == 2;
		}
	}
	for (size_t i = 0; i < st->nmembers; i++) {
		const struct lm_cmember *m = &st->members[i];

		if (m->name && has_field(t, m->name))
			continue;
		if (!covered(t, m)) {
			printf("  error: member '%s' (%s at offset %zu) is not in the config\n",
			       m->name ? m->name : "(anonymous)", m->cname, (size_t)m->offset);
			errs++;
		}
	}
	if (errs)
		print_layouts(t, st, src);
	else
		printf("  matches %s in %s\n", st->name, src);
	di->errors += errs;
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
                   const struct lm_objset *set, struct dwinfo *di, struct row *r, bool *ok)
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
		char near[256], hint[300] = "";

		if ((st == LM_FIND_NOT_FOUND || st == LM_FIND_STRIPPED) &&
		    lm_symtab_nearest(set, m->name, near, sizeof(near)))
			snprintf(hint, sizeof(hint), " (did you mean '%s'?)", near);
		snprintf(hook, sizeof(hook), "not hookable: %s%s%s%s", lm_find_status_name(st),
		         m->object ? " in " : "", m->object ? m->object : "", hint);
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
	if (rc == 0 && m->sig.name)
		rc = check_prototype(di, cfg->file ? cfg->file : "config", m, &s, &r->warnings);
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

/* Exit status: 0 all hookable, 1 some are not, 2 the config disagrees
 * with the DWARF of the objects. */
static int check_methods(const struct lm_config *cfg, const struct lm_objset *set)
{
	static const char *const header[NCOLS] = {"METHOD", "OBJECT", "ADDRESS",
	                                          "BIND",   "SIZE",   "HOOK"};
	struct report rep = {0};
	struct dwinfo di = {.set = set};
	bool all = true;
	size_t i, c;
	int rc = 0;

	di.dw = calloc(set->n, sizeof(struct lm_dwarf *));
	di.tried = calloc(set->n, sizeof(*di.tried));
	rep.rows = calloc(cfg->nmethods + 1, sizeof(*rep.rows));
	if (!di.dw || !di.tried || !rep.rows || set_cells(&rep.rows[0], header) != 0)
		rc = -1;
	rep.n = rep.rows ? 1 : 0;
	for (i = 0; i < cfg->nmethods && rc == 0; i++) {
		bool ok = true;

		rc = resolve(cfg, &cfg->methods[i], set, &di, &rep.rows[rep.n++], &ok);
		all &= ok;
	}
	if (rc == 0) {
		for (i = 0; i < rep.n; i++)
			for (c = 0; c < NCOLS; c++)
				if (strlen(rep.rows[i].cell[c]) > rep.width[c])
					rep.width[c] = strlen(rep.rows[i].cell[c]);
		print_report(&rep);
		for (i = 0; i < cfg->ntypes; i++) {
			printf("type %s: sizeof %zu, align %zu\n", cfg->types[i].name,
			       cfg->types[i].size, cfg->types[i].align);
			check_type(&di, cfg, &cfg->types[i]);
		}
	} else {
		fprintf(stderr, "ldmemo: out of memory\n");
	}
	free_report(&rep);
	for (i = 0; di.dw && i < set->n; i++)
		lm_dwarf_close(di.dw[i]);
	free(di.dw);
	free(di.tried);
	if (rc != 0)
		return 1;
	if (di.errors) {
		printf("%zu mismatch%s with the debug information\n", di.errors,
		       di.errors == 1 ? "" : "es");
		return 2;
	}
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

	if (lm_cli_help(argc, argv, CHECK_USAGE))
		return 0;
	optind = 1;
	opterr = 0; /* getopt's own messages would not start with "ldmemo:" */
	while ((opt = getopt_long(argc, argv, "+:c:", opts, NULL)) != -1) {
		if (opt == ':')
			return lm_cli_usage_error("check: option '%s' needs a value\n%s",
			                          argv[optind - 1], CHECK_USAGE);
		if (opt != 'c')
			return lm_cli_usage_error("check: unknown option '%s'\n%s",
			                          argv[optind - 1], CHECK_USAGE);
		config = optarg;
	}
	if (argc - optind != 1)
		return lm_cli_usage_error(CHECK_USAGE);
	if (!config || !*config) {
		fprintf(stderr, "ldmemo: check: no config: give -c CONFIG or set %s\n",
		        LM_ENV_CONFIG);
		return 2;
	}
	/* The shim's own test: a config it would refuse must not pass here. */
	char why[PATH_MAX + 128];
	int cfd = lm_trust_open(config, "config", why, sizeof why);
	if (cfd < 0 && why[0]) {
		fprintf(stderr, "ldmemo: %s: the shim would refuse it and cache nothing\n", why);
		return 2;
	}
	memset(&cfg, 0, sizeof(cfg));
	errors = cfd >= 0 ? lm_config_load_fd(cfd, config, &cfg, &diags)
	                  : lm_config_load(config, &cfg, &diags);
	print_diags(&cfg, &diags);
	if (errors != 0) {
		if (errors < 0)
			fprintf(stderr, "ldmemo: out of memory\n");
		lm_diags_free(&diags);
		lm_config_free(&cfg);
		return 2;
	}
	lm_cli_find_program(argv[optind], program, sizeof(program));
	rc = lm_objset_offline(program, &set, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "ldmemo: %s\n", err);
		lm_diags_free(&diags);
		lm_config_free(&cfg);
		return rc == LM_OBJSET_DAMAGED ? 2 : 1;
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
