/* The ldmemo command: one entry point per subcommand, and the few helpers
 * they share. */
#ifndef LM_CLI_H
#define LM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/config.h"

#define LM_EXIT_USAGE 2

/* ARGV[0] is the subcommand's name; each returns the exit status. */
int lm_cmd_symbols(int argc, char **argv);
int lm_cmd_check(int argc, char **argv);
int lm_cmd_stats(int argc, char **argv);
int lm_cmd_ctl(int argc, char **argv);
/* ARGV[0] is "host": `ldmemo ctl host ...` (ctl_host.c). */
int lm_cmd_ctl_host(int argc, char **argv);
/* ARGV is the command's own argv: options, then PROGRAM [ARG...]. Returns
 * only on failure. */
int lm_cmd_run(int argc, char **argv);
/* ldmemo profile [-o FILE] [--top N] [--] PROGRAM [ARG...] (profile.c). */
int lm_cmd_profile(int argc, char **argv);

/* The shim's path into OUT (PATH_MAX at least): $LDMEMO_SHIM, else next
 * to this binary, else ../lib/ldmemo/. 0, or LM_EXIT_STRICT with a message. */
int lm_cli_find_shim(char *out, size_t outlen);
/* LD_PRELOAD with SHIM first and the old entries but SHIM after it. */
int lm_cli_set_preload(const char *shim);

void lm_cli_usage(FILE *f);
/* True (USAGE printed on stdout) when ARGV asks for -h or --help before any
 * "--": the subcommand then exits 0. */
bool lm_cli_help(int argc, char **argv, const char *usage);
/* The usage line of a subcommand on stderr, and LM_EXIT_USAGE. */
int lm_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* PROGRAM as execvp would find it: a name without a slash is looked up in
 * PATH; anything else (or a name not found) is returned as given. */
void lm_cli_find_program(const char *program, char *out, size_t outlen);

/* ldmemo's table of known functions (cli/known.c): config files whose
 * [cache] sections give prototypes and, by their return kind, who owns the
 * result. */
struct lm_known_file {
	struct lm_config cfg;
	char *text; /* the file as read, for writing its sections as they are */
	size_t len;
};

struct lm_known {
	struct lm_known_file *v;
	size_t n;
};

/* Load every *.conf of the table's directory; a file with errors is
 * skipped with a warning. -1 only when out of memory. */
int lm_known_load(struct lm_known *k);
/* The known section for function NAME defined in OBJECT (a path; matched
 * by base name against the section's `object`), and its file; or NULL. */
const struct lm_method *lm_known_method(const struct lm_known *k, const char *name,
                                        const char *object, const struct lm_known_file **file);
/* Write the section whose header is at POS in F, as written, to OUT. */
void lm_known_section(const struct lm_known_file *f, struct lm_pos pos, FILE *out);
void lm_known_free(struct lm_known *k);

#endif
