/* From the shim's profile records to a ranked table and a config. */
#include "profile_rank.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "config/defaults.h"
#include "shim/profile/profile.h"

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (len + 65536 + 1 > cap) {
			char *nb = realloc(buf, cap + 65536 * 4);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536 * 4;
		}
		n = fread(buf + len, 1, 65536, f);
		len += n;
	} while (n > 0);
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

static struct lm_prof_fn *find_or_add(struct lm_prof_set *set, const char *name, const char *object)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].name, name) && !strcmp(set->v[i].object, object))
			return &set->v[i];
	struct lm_prof_fn *v = realloc(set->v, (set->n + 1) * sizeof *v);
	if (!v)
		return NULL;
	set->v = v;
	memset(&v[set->n], 0, sizeof v[set->n]);
	v[set->n].name = strdup(name);
	v[set->n].object = strdup(object);
	if (!v[set->n].name || !v[set->n].object) {
		free(v[set->n].name);
		free(v[set->n].object);
		return NULL;
	}
	return &v[set->n++];
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* One "fn" line (tab-separated fields, F[0] is "fn"). */
static int parse_fn(char **fld, size_t nf, struct lm_prof_set *set)
{
	if (nf != 14 || strlen(fld[13]) != 2 * LM_SKETCH_REGS)
		return -1;
	struct lm_prof_fn *p = find_or_add(set, fld[1], fld[3]);
	if (!p)
		return -1;
	p->stopped |= fld[2][0] == '1';
	p->calls += strtoull(fld[5], NULL, 10);
	p->ns += strtod(fld[6], NULL);
	double median = strtod(fld[7], NULL);
	if (median > p->median_ns)
		p->median_ns = median;
	p->fails += strtoull(fld[8], NULL, 10);
	p->impure += strtoull(fld[9], NULL, 10);
	p->checked += strtoull(fld[10], NULL, 10);
	p->static_rep += strtoull(fld[11], NULL, 10);
	p->caller_ptr += strtoull(fld[12], NULL, 10);
	for (uint32_t k = 0; k < LM_SKETCH_REGS; k++) {
		int hi = hexval(fld[13][2 * k]), lo = hexval(fld[13][2 * k + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		uint8_t r = (uint8_t)(hi * 16 + lo);
		if (r > p->sk.reg[k])
			p->sk.reg[k] = r;
	}
	return 0;
}

int lm_prof_parse(const char *text, struct lm_prof_set *set)
{
	size_t ml = strlen(LM_PROFILE_MAGIC);
	if (strncmp(text, LM_PROFILE_MAGIC, ml) != 0 || text[ml] != '\n')
		return -1;
	char *copy = strdup(text + ml + 1), *save = NULL;
	if (!copy)
		return -1;
	int rc = 0;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *fld[16], *s2 = NULL;
		size_t nf = 0;
		for (char *t = strtok_r(line, "\t", &s2); t && nf < 16;
		     t = strtok_r(NULL, "\t", &s2))
			fld[nf++] = t;
		if (nf == 2 && !strcmp(fld[0], "run")) {
			double w = strtod(fld[1], NULL);
			if (w > set->wall_ns)
				set->wall_ns = w;
		} else if (nf > 0 && !strcmp(fld[0], "fn") && parse_fn(fld, nf, set) != 0) {
			rc = -1;
		}
	}
	free(copy);
	if (rc == 0)
		set->processes++;
	return rc;
}

int lm_prof_read_dir(const char *dir, struct lm_prof_set *set)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	memset(set, 0, sizeof *set);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".prof") != 0)
			continue;
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		char *text = read_file(path);
		if (text && lm_prof_parse(text, set) == 0)
			n++;
		else
			fprintf(stderr, "ldmemo: profile: %s: not a record file, skipped\n", path);
		free(text);
	}
	closedir(d);
	return n;
}

/* ---- judging -------------------------------------------------------------- */

static bool returns_caller_memory(const struct lm_method *me)
{
	return me && me->sig.ret.how == LM_RET_PARAM;
}

static void judge(struct lm_prof_fn *p, const struct lm_known *known, double wall)
{
	p->mean_ns = p->calls ? p->ns / (double)p->calls : 0;
	p->distinct = lm_sketch_estimate(&p->sk);
	if (p->distinct < 1)
		p->distinct = 1;
	if (p->distinct > (double)p->calls)
		p->distinct = (double)p->calls;
	p->hit_ratio = p->calls ? 1.0 - p->distinct / (double)p->calls : 0;
	double hits = (double)p->calls - p->distinct;
	p->saving_ns = hits * (p->mean_ns - LM_PROF_LOOKUP_NS) - p->distinct * LM_PROF_MISS_NS;
	p->me = lm_known_method(known, p->name, p->object, &p->kf);
	p->why_not = p->why_buf;
	if (p->median_ns < 2 * LM_PROF_LOOKUP_NS && p->median_ns >= 1)
		snprintf(p->why_buf, sizeof p->why_buf,
		         "cheaper than two lookups (median %.0f ns a call%s)", p->median_ns,
		         p->stopped ? "; no longer counted after that" : "");
	else if (p->median_ns < 1)
		snprintf(p->why_buf, sizeof p->why_buf,
		         "cheaper than two lookups (the median call is within the cost of "
		         "measuring it%s)",
		         p->stopped ? "; no longer counted after that" : "");
	else if (!p->me)
		snprintf(p->why_buf, sizeof p->why_buf,
		         "prototype unknown (not in the table of known functions)");
	else if (p->impure)
		snprintf(p->why_buf, sizeof p->why_buf,
		         "impure: %llu of %llu sampled repeats gave another result",
		         (unsigned long long)p->impure, (unsigned long long)p->checked);
	else if (p->me->mode == LM_MODE_VERIFY)
		snprintf(p->why_buf, sizeof p->why_buf,
		         "its result may change for the same key: run it in verify mode first");
	else if (p->caller_ptr && !returns_caller_memory(p->me))
		snprintf(p->why_buf, sizeof p->why_buf,
		         "its result points into memory the caller owns");
	else if (p->hit_ratio < LM_PROF_MIN_HIT_RATIO)
		snprintf(p->why_buf, sizeof p->why_buf,
		         "hit ratio too low for the memory (%.0f%% predicted)", 100 * p->hit_ratio);
	else if (p->saving_ns < LM_PROF_MIN_SAVING_NS ||
	         p->saving_ns < LM_PROF_MIN_SAVING_SHARE * wall)
		snprintf(p->why_buf, sizeof p->why_buf, "predicted saving too small (%.2f ms)",
		         p->saving_ns / 1e6);
	else
		p->why_not = NULL;
}

static int by_rank(const void *a, const void *b)
{
	const struct lm_prof_fn *x = a, *y = b;
	if (!x->why_not != !y->why_not)
		return x->why_not ? 1 : -1;
	double kx = x->why_not ? x->ns : x->saving_ns, ky = y->why_not ? y->ns : y->saving_ns;
	if (kx != ky)
		return kx < ky ? 1 : -1;
	return strcmp(x->name, y->name);
}

void lm_prof_rank(struct lm_prof_set *set, const struct lm_known *known, int64_t wall_ns)
{
	if ((double)wall_ns > set->wall_ns)
		set->wall_ns = (double)wall_ns;
	for (size_t i = 0; i < set->n; i++)
		judge(&set->v[i], known, set->wall_ns);
	/* the why_not pointers point into their own record: fix after sorting */
	qsort(set->v, set->n, sizeof *set->v, by_rank);
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i].why_not)
			set->v[i].why_not = set->v[i].why_buf;
}

static const char *base_of(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

void lm_prof_table(const struct lm_prof_set *set, size_t top, FILE *out)
{
	size_t shown_yes = 0, shown_no = 0, left = 0;
	fprintf(out, "ldmemo profile: %.1f ms, %llu process%s\n", set->wall_ns / 1e6,
	        (unsigned long long)set->processes, set->processes == 1 ? "" : "es");
	fprintf(out, "%-24s %10s %10s %6s %9s %6s %10s  %s\n", "function", "calls", "time ms",
	        "share", "distinct", "hit%", "saving ms", "verdict");
	for (size_t i = 0; i < set->n; i++) {
		const struct lm_prof_fn *p = &set->v[i];
		size_t *shown = p->why_not ? &shown_no : &shown_yes;
		if (*shown >= top) {
			left++;
			continue;
		}
		(*shown)++;
		fprintf(out, "%-24s %9llu%s %10.2f %5.1f%% %9.0f %5.1f%% ", p->name,
		        (unsigned long long)p->calls, p->stopped ? "+" : " ", p->ns / 1e6,
		        set->wall_ns > 0 ? 100 * p->ns / set->wall_ns : 0, p->distinct,
		        100 * p->hit_ratio);
		if (p->why_not)
			fprintf(out, "%10s  left out: %s\n", "-", p->why_not);
		else
			fprintf(out, "%10.2f  cache (%s)\n", p->saving_ns / 1e6,
			        base_of(p->object));
	}
	if (left)
		fprintf(out, "(%zu more below the top %zu)\n", left, top);
}

/* ---- the config ----------------------------------------------------------- */

static const char *ownership(const struct lm_method *me)
{
	switch (me->sig.ret.how) {
	case LM_RET_STATIC_STR:
	case LM_RET_STATIC_BUF:
	case LM_RET_STATIC_TYPE:
		return "static (storage the library owns; the cache keeps a copy per thread)";
	case LM_RET_STR:
	case LM_RET_BUF:
		return "heap (malloc'd for the caller)";
	case LM_RET_PARAM:
		return "out-parameter (the result is the caller's buffer)";
	default:
		return "a value";
	}
}

/* Where a prototype came from: a file of the table, or the debug
 * information (`--functions`, through `ldmemo symbols --config`). */
static const char *source_of(const struct lm_known_file *kf)
{
	static char buf[512];
	const char *base = base_of(kf->cfg.file);
	if (strncmp(base, "dwarf-", 6) == 0)
		return "the program's debug information (ldmemo symbols --config)";
	snprintf(buf, sizeof buf, "ldmemo's table of known functions (%s)", base);
	return buf;
}

/* The [type] sections SET's recommended functions use, each once. */
static void write_types(const struct lm_prof_set *set, FILE *out)
{
	const char **done = calloc(set->n + 1, sizeof *done);
	size_t nd = 0;
	for (size_t i = 0; done && i < set->n; i++) {
		const struct lm_prof_fn *p = &set->v[i];
		if (p->why_not || p->me->sig.ret.how != LM_RET_STATIC_TYPE)
			continue;
		const struct lm_type *t = &p->kf->cfg.types[p->me->sig.ret.type];
		bool seen = false;
		for (size_t k = 0; k < nd; k++)
			seen |= !strcmp(done[k], t->name);
		if (seen)
			continue;
		done[nd++] = t->name;
		lm_known_section(p->kf, t->pos, out);
		fputc('\n', out);
	}
	free(done);
}

/* TEXT in a comment line: a control character (a newline in an argument, a
 * library path or a damaged record) would end the comment and put the rest
 * on a config line of its own, so each is written as an escape. */
static void put_comment(const char *text, FILE *out)
{
	for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
		if (*c == '\n')
			fputs("\\n", out);
		else if (*c < 0x20 || *c == 0x7f)
			fprintf(out, "\\x%02x", *c);
		else
			fputc(*c, out);
	}
}

void lm_prof_config(const struct lm_prof_set *set, const struct lm_known *known, int argc,
                    char **argv, FILE *out)
{
	(void)known;
	size_t nyes = 0;
	fputs("# Written by `ldmemo profile` for:", out);
	for (int i = 0; i < argc; i++) {
		fputc(' ', out);
		put_comment(argv[i], out);
	}
	fprintf(out,
	        "\n# %.1f ms measured. Each section says why it is here; each function left\n"
	        "# out has a comment line with the rule that left it out.\n\n",
	        set->wall_ns / 1e6);
	write_types(set, out);
	for (size_t i = 0; i < set->n; i++) {
		const struct lm_prof_fn *p = &set->v[i];
		if (p->why_not)
			continue;
		nyes++;
		fputs("# ", out);
		put_comment(p->name, out);
		fprintf(out,
		        ": %llu calls, %.2f ms (%.1f%% of the run), %.0f distinct keys: predicted "
		        "hit ratio %.1f%%, saving %.2f ms.\n# Result ownership: %s, from %s.\n",
		        (unsigned long long)p->calls, p->ns / 1e6,
		        set->wall_ns > 0 ? 100 * p->ns / set->wall_ns : 0, p->distinct,
		        100 * p->hit_ratio, p->saving_ns / 1e6, ownership(p->me), source_of(p->kf));
		lm_known_section(p->kf, p->me->pos, out);
		if (p->fails && p->me->when && p->me->negative_ttl_ms == 0)
			fprintf(out,
			        "# %llu of %llu results failed `when`: kept too, for 30s\n"
			        "negative_ttl = 30s\n",
			        (unsigned long long)p->fails, (unsigned long long)p->calls);
		if (p->me->ttl_ms == LM_DUR_UNSET)
			fputs("# ttl: the default (5m): the data behind the result may change\n",
			      out);
		/* The adaptive bypass judges the first calls: with more keys
		 * than those, it would see first-time keys only. */
		if (p->distinct >= LM_ADAPT_WARMUP && p->me->adaptive == LM_UNSET)
			fprintf(
			    out,
			    "# adaptive: off: its first %d calls, which the bypass judges, would "
			    "all be first-time keys\nadaptive = off\n",
			    LM_ADAPT_WARMUP);
		fputc('\n', out);
	}
	if (!nyes)
		fputs("# No function of this run is worth caching.\n\n", out);
	for (size_t i = 0; i < set->n; i++) {
		const struct lm_prof_fn *p = &set->v[i];
		if (!p->why_not)
			continue;
		fputs("# left out: ", out);
		put_comment(p->name, out);
		fputs(" (", out);
		put_comment(base_of(p->object), out);
		fprintf(out, "), %.2f ms: %s\n", p->ns / 1e6, p->why_not);
	}
}

void lm_prof_free(struct lm_prof_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].name);
		free(set->v[i].object);
	}
	free(set->v);
	memset(set, 0, sizeof *set);
}
