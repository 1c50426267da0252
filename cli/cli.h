/* The ldmemo command: one entry point per subcommand, and the few helpers
 * they share. */
#ifndef LM_CLI_H
#define LM_CLI_H

#include <stddef.h>
#include <stdio.h>

#define LM_EXIT_USAGE 2

/* ARGV[0] is the subcommand's name; each returns the exit status. */
int lm_cmd_symbols(int argc, char **argv);
int lm_cmd_check(int argc, char **argv);
int lm_cmd_stats(int argc, char **argv);
int lm_cmd_ctl(int argc, char **argv);
/* ARGV is the command's own argv: options, then PROGRAM [ARG...]. Returns
 * only on failure. */
int lm_cmd_run(int argc, char **argv);

void lm_cli_usage(FILE *f);
/* The usage line of a subcommand on stderr, and LM_EXIT_USAGE. */
int lm_cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* PROGRAM as execvp would find it: a name without a slash is looked up in
 * PATH; anything else (or a name not found) is returned as given. */
void lm_cli_find_program(const char *program, char *out, size_t outlen);

#endif
