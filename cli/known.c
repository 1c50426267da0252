/* ldmemo's table of known functions (config/known/ *.conf, installed under
 * $(DATADIR)/known): config files whose [cache] sections give the
 * prototypes of common library functions with the ownership of their
 * results (the return kind). `symbols --config` writes these sections
 * instead of guessing from DWARF; `profile` can reuse them.
 *
 * The directory is LDMEMO_KNOWN_DIR when set, else config/known next to a
 * build tree's ldmemo (build/ldmemo), else the installed one. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "symtab/symtab.h"

#ifndef LM_KNOWN_DIR
#define LM_KNOWN_DIR "/usr/local/share/ldmemo/known"
#endif

/* The file's text, for writing its sections as they are. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	*len = 0;
	for (;;) {
		if (*len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap + 65536);
			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		size_t n = fread(buf + *len, 1, 4096, f);
		*len += n;
		if (n < 4096)
			break;
	}
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void known_dir(char *out, size_t len)
{
	const char *env = getenv("LDMEMO_KNOWN_DIR");
	const char *self = lm_self_exe();
	char exe[PATH_MAX / 2];

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return;
	}
	if (self && strlen(self) < sizeof exe) {
		strcpy(exe, self);
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			char rel[PATH_MAX / 2 + 32];

			snprintf(rel, sizeof(rel), "%s/../config/known", exe);
			if (realpath(rel, out) && access(out, R_OK | X_OK) == 0)
				return;
		}
	}
	snprintf(out, len, "%s", LM_KNOWN_DIR);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int conf_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 5 && strcmp(d->d_name + n - 5, ".conf") == 0;
}

int lm_known_add_file(struct lm_known *k, const char *path)
{
	struct lm_known_file *v = realloc(k->v, (k->n + 1) * sizeof(*v));
	struct lm_diags diags = {0};

	if (!v)
		return -1;
	k->v = v;
	struct lm_known_file *f = &k->v[k->n];
	memset(f, 0, sizeof(*f));
	f->text = slurp(path, &f->len);
	if (!f->text)
		return -1;
	if (lm_config_parse(f->text, f->len, path, &f->cfg, &diags) != 0) {
		lm_config_free(&f->cfg);
		free(f->text);
		lm_diags_free(&diags);
		return -1;
	}
	lm_diags_free(&diags);
	k->n++;
	return 0;
}

int lm_known_load(struct lm_known *k)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent **names = NULL;
	int n;

	memset(k, 0, sizeof(*k));
	known_dir(dir, sizeof(dir));
	n = scandir(dir, &names, conf_filter, by_name);
	if (n < 0) {
		fprintf(stderr,
		        "ldmemo: warning: %s: no table of known functions: pointer results "
		        "are written commented out\n",
		        dir);
		return 0;
	}
	k->v = calloc((size_t)n + 1, sizeof(*k->v));
	for (int i = 0; i < n; i++) {
		struct lm_known_file *f = k->v ? &k->v[k->n] : NULL;
		struct lm_diags diags = {0};

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		if (!f)
			continue;
		f->text = slurp(path, &f->len);
		if (!f->text) {
			fprintf(stderr, "ldmemo: warning: %s: cannot be read\n", path);
			continue;
		}
		if (lm_config_parse(f->text, f->len, path, &f->cfg, &diags) != 0) {
			for (size_t d = 0; d < diags.n; d++)
				fprintf(stderr, "ldmemo: warning: %s:%d:%d: %s\n", path,
				        diags.v[d].pos.line, diags.v[d].pos.col, diags.v[d].msg);
			fprintf(stderr, "ldmemo: warning: %s: ignored (errors)\n", path);
			lm_config_free(&f->cfg);
			free(f->text);
			lm_diags_free(&diags);
			continue;
		}
		lm_diags_free(&diags);
		k->n++;
	}
	free(names);
	return k->v || n == 0 ? 0 : -1;
}

const struct lm_method *lm_known_method(const struct lm_known *k, const char *name,
                                        const char *object, const struct lm_known_file **file)
{
	const char *base = strrchr(object, '/');

	base = base ? base + 1 : object;
	for (size_t i = 0; i < k->n; i++) {
		const struct lm_config *cfg = &k->v[i].cfg;

		/* Names are unique within a file: its index finds the one. */
		int m = lm_config_find_method(cfg, name);
		const struct lm_method *me = m >= 0 ? &cfg->methods[m] : NULL;

		if (!me || me->broken || (me->object && strcmp(me->object, base) != 0))
			continue;
		*file = &k->v[i];
		return me;
	}
	return NULL;
}

/* Where line LINE (1-based) of F starts, or NULL. */
static const char *line_at(const struct lm_known_file *f, int line)
{
	const char *p = f->text, *end = f->text + f->len;

	for (int l = 1; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	return p < end ? p : NULL;
}

static bool comment_or_blank(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	return s == e || *s == '#';
}

void lm_known_section(const struct lm_known_file *f, struct lm_pos pos, FILE *out)
{
	const char *start = line_at(f, pos.line), *end = f->text + f->len, *p, *last;

	if (!start)
		return;
	/* The header, then every line up to the next header; the comments and
	 * blank lines before that header are its own. */
	last = p = start;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *s = p;
		const char *le = nl ? nl : end;

		while (s < le && (*s == ' ' || *s == '\t'))
			s++;
		if (p != start && s < le && *s == '[')
			break;
		if (!comment_or_blank(p, le) || p == start)
			last = nl ? nl + 1 : end;
		p = nl ? nl + 1 : end;
	}
	fwrite(start, 1, (size_t)(last - start), out);
	if (last > start && last[-1] != '\n')
		fputc('\n', out);
}

void lm_known_free(struct lm_known *k)
{
	for (size_t i = 0; i < k->n; i++) {
		lm_config_free(&k->v[i].cfg);
		free(k->v[i].text);
	}
	free(k->v);
	memset(k, 0, sizeof(*k));
}
