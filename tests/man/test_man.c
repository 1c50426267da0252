/* The man pages: each renders without a groff warning, fits an 80-column
 * terminal, carries the current version, and names what the code defines:
 * ldmemo.1 every subcommand, option and variable of `ldmemo --help`,
 * ldmemo.conf.5 every section kind and key of the config module's tables,
 * libldmemo.7 every environment variable of config/defaults.h and every
 * statistics field. The lists come from the code, so a new key or option
 * without documentation fails here. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "config/defaults.h"
#include "config/parse_internal.h"
#include "shim/ops/stats_snapshot.h"

#define MAN_WIDTH 80
#define CMD_MAX   (2 * PATH_MAX + 256)

/* The repository root, from this binary's path: ROOT/build/tests/test_man. */
static const char *root(void)
{
	static char dir[PATH_MAX];
	if (dir[0])
		return dir;
	ssize_t n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	cr_assert_gt(n, 0);
	dir[n] = '\0';
	for (int i = 0; i < 3; i++) {
		char *slash = strrchr(dir, '/');
		cr_assert_not_null(slash);
		*slash = '\0';
	}
	return dir;
}

static const char *path_of(const char *rel)
{
	static char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/%s", root(), rel);
	return path;
}

/* Everything CMD prints on stdout (stderr too when it says 2>&1), and its
 * exit status. The caller frees. */
static char *run(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p, "cannot run: %s", cmd);
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	cr_assert_not_null(buf);
	size_t k;
	while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
		n += k;
		if (n + 1 == cap) {
			buf = realloc(buf, cap *= 2);
			cr_assert_not_null(buf);
		}
	}
	buf[n] = '\0';
	int st = pclose(p);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return buf;
}

static void need_groff(void)
{
	int st;
	free(run("command -v groff >/dev/null 2>&1", &st));
	cr_assert_eq(st, 0, "groff is not installed (Debian: apt-get install groff-base)");
}

/* The page rendered as plain text: no bold, underline or colour. */
static char *render(const char *page)
{
	char cmd[CMD_MAX];
	int st;
	need_groff();
	snprintf(cmd, sizeof(cmd), "groff -man -Tutf8 -P-cbou '%s' 2>/dev/null", path_of(page));
	char *text = run(cmd, &st);
	cr_assert_eq(st, 0, "groff failed on %s", page);
	cr_assert_gt(strlen(text), 1000, "%s rendered to almost nothing", page);
	return text;
}

static char *slurp(const char *rel)
{
	int st;
	char cmd[CMD_MAX];
	snprintf(cmd, sizeof(cmd), "cat '%s'", path_of(rel));
	char *text = run(cmd, &st);
	cr_assert_eq(st, 0, "cannot read %s", rel);
	return text;
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* WORD in TEXT as a whole word: not inside a longer identifier, so that
 * `ttl` is not found in `l1_ttl`. An option's leading dash counts as a
 * boundary of its own. */
static bool names(const char *text, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
		bool before = p == text || !word_char(p[-1]);
		if (word[0] == '-' && p > text && p[-1] == '-')
			before = false;
		bool after = !word_char(p[n]);
		if (before && after)
			return true;
	}
	return false;
}

static void assert_names(const char *page, const char *text, const char *word)
{
	cr_expect(names(text, word), "%s does not name '%s'", page, word);
}

/* ---- Every page ---------------------------------------------------------- */

static const char *const pages[] = {"man/ldmemo.1", "man/ldmemo.conf.5", "man/libldmemo.7"};

Test(man, renders_without_groff_warnings)
{
	need_groff();
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		char cmd[CMD_MAX];
		int st;
		snprintf(cmd, sizeof(cmd), "groff -man -Tutf8 -ww -z '%s' 2>&1", path_of(pages[i]));
		char *out = run(cmd, &st);
		cr_expect_eq(st, 0, "groff failed on %s", pages[i]);
		cr_expect_str_empty(out, "groff warns about %s:\n%s", pages[i], out);
		free(out);
	}
}

/* Columns of a UTF-8 line: every character of these pages is one column. */
static size_t columns(const char *s, size_t len)
{
	size_t cols = 0;
	for (size_t i = 0; i < len; i++)
		cols += ((unsigned char)s[i] & 0xC0) != 0x80;
	return cols;
}

Test(man, every_line_fits_an_80_column_terminal)
{
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		char *text = render(pages[i]);
		int line = 1;
		for (const char *p = text; *p; line++) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			cr_expect_leq(columns(p, len), MAN_WIDTH,
			              "%s: line %d is %zu columns: %.*s", pages[i], line,
			              columns(p, len), (int)len, p);
			p += len + (nl != NULL);
		}
		free(text);
	}
}

Test(man, title_line_carries_the_current_version)
{
	char want[64];
	snprintf(want, sizeof(want), "\"ldmemo %s\"", LDMEMO_VERSION);
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		char *src = slurp(pages[i]);
		const char *th = strstr(src, "\n.TH ");
		cr_assert_not_null(th, "%s has no .TH line", pages[i]);
		const char *end = strchr(th + 1, '\n');
		cr_expect_not_null(memmem(th, (size_t)(end - th), want, strlen(want)),
		                   "%s: .TH does not say %s", pages[i], want);
		free(src);
	}
}

/* ---- ldmemo.1 ------------------------------------------------------------ */

/* Each subcommand (the word after "ldmemo" where a line starts with it,
 * after an optional "Usage:"), each option (-x, --word) and each
 * LDMEMO_* name, as `ldmemo --help` prints them. */
static size_t help_terms(const char *help, char terms[][64], size_t max)
{
	size_t n = 0;
	bool line_start = true;
	for (const char *p = help; *p && n < max; p++) {
		if (line_start) {
			const char *q = p + strspn(p, " ");
			if (strncmp(q, "Usage:", 6) == 0)
				q += 6 + strspn(q + 6, " ");
			if (strncmp(q, "ldmemo ", 7) == 0 && islower((unsigned char)q[7])) {
				size_t k = 0;
				for (q += 7; islower((unsigned char)*q) && k < 63; q++)
					terms[n][k++] = *q;
				terms[n++][k] = '\0';
				p = q - 1;
			}
		}
		line_start = *p == '\n';
		if (n == max)
			break;
		if (*p == '-' && (p == help || strchr(" [(,|", p[-1])) &&
		    (isalpha((unsigned char)p[1]) || p[1] == '-')) {
			size_t k = 0;
			const char *q = p;
			while ((*q == '-' || isalnum((unsigned char)*q)) && k < 63)
				terms[n][k++] = *q++;
			terms[n][k] = '\0';
			if (k >= 2 && isalpha((unsigned char)terms[n][k - 1]))
				n++;
			p = q - 1;
			line_start = *p == '\n';
		} else if (strncmp(p, "LDMEMO_", 7) == 0 && (p == help || !word_char(p[-1]))) {
			size_t k = 0;
			for (const char *q = p; word_char(*q) && k < 63; q++)
				terms[n][k++] = *q;
			terms[n++][k] = '\0';
			p += k - 1;
		}
	}
	return n;
}

static void assert_help_terms(const char *cmd, const char *text)
{
	char terms[256][64];
	int st;
	char line[CMD_MAX];
	snprintf(line, sizeof(line), "'%s' %s", path_of("build/ldmemo"), cmd);
	char *help = run(line, &st);
	cr_assert_eq(st, 0, "ldmemo %s failed (is build/ldmemo built?)", cmd);
	size_t n = help_terms(help, terms, 256);
	cr_assert_gt(n, 5, "found no options in `ldmemo %s`", cmd);
	for (size_t i = 0; i < n; i++)
		assert_names("ldmemo.1", text, terms[i]);
	free(help);
}

Test(man, ldmemo_1_names_every_subcommand_option_and_variable_of_help)
{
	char *text = render("man/ldmemo.1");
	assert_help_terms("--help", text);
	assert_help_terms("stats --help", text);
	free(text);
}

Test(man, ldmemo_1_help_parser_sees_the_subcommands)
{
	/* Guards the test above: a parser that finds nothing proves nothing. */
	char terms[256][64];
	size_t n = help_terms("Usage: ldmemo [-c CONFIG] [--strict] PROGRAM\n"
	                      "       ldmemo check [-c CONFIG] PROGRAM\n"
	                      "  LDMEMO_SHIM  the shim\n",
	                      terms, 256);
	cr_assert_eq(n, 5);
	cr_expect_str_eq(terms[0], "-c");
	cr_expect_str_eq(terms[1], "--strict");
	cr_expect_str_eq(terms[2], "check");
	cr_expect_str_eq(terms[3], "-c");
	cr_expect_str_eq(terms[4], "LDMEMO_SHIM");
}

Test(man, ldmemo_1_has_the_sections_of_a_command_page)
{
	static const char *const sections[] = {"NAME",        "SYNOPSIS",    "DESCRIPTION",
	                                       "EXIT STATUS", "ENVIRONMENT", "EXAMPLES",
	                                       "SEE ALSO"};
	char *src = slurp("man/ldmemo.1");
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "\n.SH %s\n", sections[i]);
		char quoted[64];
		snprintf(quoted, sizeof(quoted), "\n.SH \"%s\"\n", sections[i]);
		cr_expect(strstr(src, want) || strstr(src, quoted), "ldmemo.1 lacks %s",
		          sections[i]);
	}
	free(src);
}

/* ---- ldmemo.conf.5 ------------------------------------------------------- */

Test(man, ldmemo_conf_5_names_every_config_key)
{
	char *text = render("man/ldmemo.conf.5");
	for (int k = 0; k < LM_KEY_COUNT; k++)
		assert_names("ldmemo.conf.5", text, lm_key_name((enum lm_key)k));
	free(text);
}

Test(man, ldmemo_conf_5_names_every_section_kind)
{
	char *text = render("man/ldmemo.conf.5");
	for (int k = LM_SEC_GLOBAL; k <= LM_SEC_INVALIDATE; k++) {
		char header[32];
		snprintf(header, sizeof(header), "[%s", lm_sec_kind_name((enum lm_sec_kind)k));
		cr_expect_not_null(strstr(text, header), "ldmemo.conf.5 lacks %s]", header);
	}
	free(text);
}

Test(man, ldmemo_conf_5_names_every_kind)
{
	char *text = render("man/ldmemo.conf.5");
	for (int k = LM_K_VOID; k <= LM_K_STRUCT_PTR; k++)
		assert_names("ldmemo.conf.5", text, lm_kind_name((enum lm_kind)k));
	free(text);
}

/* ---- libldmemo.7 --------------------------------------------------------- */

/* The values of the LM_ENV_* macros, read from config/defaults.h itself,
 * so that a variable added there must be documented here. */
static size_t defaults_env(char vars[][64], size_t max)
{
	char *src = slurp("config/defaults.h");
	size_t n = 0;
	for (const char *p = strstr(src, "#define LM_ENV_"); p && n < max;
	     p = strstr(p + 1, "#define LM_ENV_")) {
		const char *q = strchr(p, '"'), *nl = strchr(p, '\n');
		if (!q || (nl && q > nl))
			continue;
		const char *end = strchr(q + 1, '"');
		cr_assert_not_null(end);
		snprintf(vars[n++], 64, "%.*s", (int)(end - q - 1), q + 1);
	}
	free(src);
	return n;
}

Test(man, libldmemo_7_names_every_environment_variable_of_defaults_h)
{
	char vars[64][64];
	size_t n = defaults_env(vars, 64);
	bool saw_config = false, saw_disable = false;
	for (size_t i = 0; i < n; i++) {
		saw_config |= strcmp(vars[i], LM_ENV_CONFIG) == 0;
		saw_disable |= strcmp(vars[i], LM_ENV_DISABLE) == 0;
	}
	cr_assert(saw_config && saw_disable, "defaults.h was not read right (%zu names)", n);

	char *text = render("man/libldmemo.7");
	const char *env = strstr(text, "\nENVIRONMENT\n");
	const char *next = env ? strstr(env, "\nGUARANTEES\n") : NULL;
	cr_assert_not_null(env, "libldmemo.7 has no ENVIRONMENT section");
	cr_assert_not_null(next, "libldmemo.7: GUARANTEES must follow ENVIRONMENT");
	char *section = strndup(env, (size_t)(next - env));
	for (size_t i = 0; i < n; i++)
		assert_names("libldmemo.7 ENVIRONMENT", section, vars[i]);
	free(section);
	free(text);
}

Test(man, libldmemo_7_names_every_statistics_field)
{
	char *text = render("man/libldmemo.7");
	for (int f = 0; f < LM_SF_COUNT; f++)
		assert_names("libldmemo.7", text, lm_snap_field_name[f]);
	assert_names("libldmemo.7", text, "dropped");
	free(text);
}

Test(man, libldmemo_7_has_the_sections_of_a_preload_page)
{
	static const char *const sections[] = {"ENVIRONMENT", "FILES",   "DIAGNOSTICS",
	                                       "LIMITATIONS", "BUGS",    "STATISTICS",
	                                       "C API",       "SEE ALSO"};
	char *text = render("man/libldmemo.7");
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		char want[64];
		snprintf(want, sizeof(want), "\n%s\n", sections[i]);
		cr_expect_not_null(strstr(text, want), "libldmemo.7 lacks %s", sections[i]);
	}
	free(text);
}

Test(man, libldmemo_7_declares_the_api_of_ldmemo_h)
{
	char *hdr = slurp("include/ldmemo.h");
	char *text = render("man/libldmemo.7");
	int found = 0;
	for (const char *p = strstr(hdr, "LDMEMO_API int "); p;
	     p = strstr(p + 1, "LDMEMO_API int ")) {
		const char *name = p + strlen("LDMEMO_API int ");
		const char *paren = strchr(name, '(');
		char fn[64];
		snprintf(fn, sizeof(fn), "%.*s", (int)(paren - name), name);
		assert_names("libldmemo.7", text, fn);
		found++;
	}
	cr_expect_gt(found, 0, "no functions found in include/ldmemo.h");
	free(text);
	free(hdr);
}

/* Issue 20: the pages say what the code does now. memcached is built (a
 * plugin), and saved_ns is the net saving that can be a loss. */
Test(man, pages_match_the_backends_and_the_saved_estimate)
{
	char *conf = slurp("man/ldmemo.conf.5");
	cr_expect_null(strstr(conf, "not built into this version"));
	free(conf);
	char *text = render("man/libldmemo.7");
	const char *saved = strstr(text, "saved_ns");
	cr_assert_not_null(saved);
	cr_expect_null(strstr(text, "times the mean miss time"), "saved_ns still uses the mean");
	cr_expect(strstr(saved, "loss") != NULL, "saved_ns does not say it can be a loss");
	free(text);
}
