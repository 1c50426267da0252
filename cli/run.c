/* Run mode: PROGRAM with the shim first in LD_PRELOAD and the options
 * turned into the shim's environment variables. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config/config.h"
#include "config/defaults.h"
#include "symtab/symtab.h"

#define LM_ENV_SHIM  "LDMEMO_SHIM"
#define LM_SHIM_NAME "libldmemo.so"

static int fail(const char *fmt, const char *arg)
{
	fputs("ldmemo: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return LM_EXIT_STRICT;
}

/* The shim: $LDMEMO_SHIM, else next to this binary (the build tree), else
 * where `make install` puts it relative to the binary. */
int lm_cli_find_shim(char *out, size_t outlen)
{
	static const char *const rel[] = {"/" LM_SHIM_NAME, "/../lib/ldmemo/" LM_SHIM_NAME};
	const char *env = getenv(LM_ENV_SHIM);
	const char *exe = lm_self_exe();
	char self[PATH_MAX], cand[PATH_MAX + 64];
	size_t i;

	if (env && *env) {
		if (!realpath(env, out) || access(out, R_OK) != 0)
			return fail("%s: shim not found (from " LM_ENV_SHIM ")", env);
		return 0;
	}
	if (!exe || strlen(exe) >= sizeof self)
		return fail("%s", "cannot find its own binary (/proc/self/exe)");
	strcpy(self, exe);
	*strrchr(self, '/') = '\0';
	for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(cand, sizeof(cand), "%s%s", self, rel[i]);
		if (outlen >= PATH_MAX && realpath(cand, out) && access(out, R_OK) == 0)
			return 0;
	}
	return fail("%s: shim not found next to ldmemo nor in ../lib/ldmemo/", LM_SHIM_NAME);
}

static bool same_file(const char *entry, const char *shim)
{
	char real[PATH_MAX];

	if (strcmp(entry, shim) == 0)
		return true;
	return strchr(entry, '/') && realpath(entry, real) && strcmp(real, shim) == 0;
}

/* SHIM first, then every entry of the old value that is not the shim. The
 * dynamic linker splits LD_PRELOAD at spaces and colons. */
int lm_cli_set_preload(const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	size_t cap = strlen(shim) + (old ? strlen(old) : 0) + 2;
	char *val = malloc(cap), *copy = old ? strdup(old) : NULL;
	char *tok, *save = NULL;
	int rc;

	if (!val || (old && !copy)) {
		free(val);
		free(copy);
		return -1;
	}
	snprintf(val, cap, "%s", shim);
	for (tok = copy ? strtok_r(copy, ": \t", &save) : NULL; tok;
	     tok = strtok_r(NULL, ": \t", &save)) {
		if (same_file(tok, shim))
			continue;
		strcat(val, ":");
		strcat(val, tok);
	}
	rc = setenv("LD_PRELOAD", val, 1);
	free(val);
	free(copy);
	return rc;
}

/* The config the shim will read (-c, else $LDMEMO_CONFIG), made absolute
 * so that a child in another directory finds it too, and checked before
 * exec: a config that cannot be read would leave PROGRAM running with
 * nothing cached and a message that names no reason. 0, or -1 said. */
static int settle_config(void)
{
	const char *config = getenv(LM_ENV_CONFIG);
	char abs[PATH_MAX];
	struct stat st;
	int fd;

	if (!config || !*config) {
		fputs("ldmemo: no config (-c CONFIG or " LM_ENV_CONFIG
		      "): nothing will be cached\n",
		      stderr);
		return 0;
	}
	/* O_NONBLOCK: a FIFO must not hang the wrapper; it is refused below. */
	fd = open(config, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "ldmemo: %s: cannot read the config: %s\n", config,
		        strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		fprintf(stderr, "ldmemo: %s: the config is not a regular file\n", config);
		close(fd);
		return -1;
	}
	close(fd);
	if (config[0] == '/')
		return 0;
	if (!getcwd(abs, sizeof(abs)) || strlen(abs) + strlen(config) + 2 > sizeof(abs)) {
		fprintf(stderr, "ldmemo: %s: cannot make the config path absolute\n", config);
		return -1;
	}
	/* Not realpath: a symlinked config stays one, as the shim would see it. */
	strcat(abs, "/");
	strcat(abs, config);
	if (setenv(LM_ENV_CONFIG, abs, 1) != 0) {
		fprintf(stderr, "ldmemo: cannot set the environment\n");
		return -1;
	}
	return 0;
}

/* Sets the environment from the options. Returns the index of PROGRAM, or 0
 * when the command is done, with its exit status in *STATUS. */
static int parse_options(int argc, char **argv, int *status)
{
	enum { OPT_STRICT = 256, OPT_VERIFY, OPT_SIGNAL };
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"stats", required_argument, NULL, 's'},
	                                     {"format", required_argument, NULL, 'f'},
	                                     {"verbose", no_argument, NULL, 'v'},
	                                     {"strict", no_argument, NULL, OPT_STRICT},
	                                     {"verify", no_argument, NULL, OPT_VERIFY},
	                                     {"stats-signal", required_argument, NULL, OPT_SIGNAL},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {NULL, 0, NULL, 0}};
	enum lm_stats_format fmt;
	int opt, rc = 0, signo;

	*status = 0;
	optind = 1;
	opterr = 0;
	while (rc == 0 && (opt = getopt_long(argc, argv, "+:c:s:f:vhV", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			rc = setenv(LM_ENV_CONFIG, optarg, 1);
			break;
		case 's':
			if (lm_parse_stats_dest(optarg) != 0) {
				*status = lm_cli_usage_error(
				    "-s: '%s' is not a destination (stderr, fd:N or a path)",
				    optarg);
				return 0;
			}
			rc = setenv(LM_ENV_STATS, optarg, 1);
			break;
		case OPT_SIGNAL:
			if (lm_parse_signal(optarg, &signo) != 0) {
				*status = lm_cli_usage_error("--stats-signal: '%s' is not a signal "
				                             "(USR2, SIGUSR2 or a number)",
				                             optarg);
				return 0;
			}
			rc = setenv(LM_ENV_STATS_SIGNAL, optarg, 1);
			break;
		case 'f':
			if (lm_parse_stats_format(optarg, &fmt) != 0) {
				*status = lm_cli_usage_error(
				    "-f: unknown format '%s' (text, json or prom)", optarg);
				return 0;
			}
			rc = setenv(LM_ENV_STATS_FORMAT, optarg, 1);
			break;
		case 'v':
			rc = setenv(LM_ENV_LOG, "info", 1);
			break;
		case OPT_STRICT:
			rc = setenv(LM_ENV_STRICT, "1", 1);
			break;
		case OPT_VERIFY:
			rc = setenv(LM_ENV_MODE, "verify", 1);
			break;
		case 'h':
			lm_cli_usage(stdout);
			return 0;
		case 'V':
			printf("ldmemo %s\n", LDMEMO_VERSION);
			return 0;
		case ':':
			*status = lm_cli_usage_error("option '%s' needs a value", argv[optind - 1]);
			return 0;
		default:
			*status = lm_cli_usage_error("unknown option '%s'", argv[optind - 1]);
			return 0;
		}
	}
	if (rc != 0)
		*status = fail("%s", "cannot set the environment");
	else if (optind >= argc)
		*status = lm_cli_usage_error("missing PROGRAM");
	else
		return optind;
	return 0;
}

int lm_cmd_run(int argc, char **argv)
{
	char shim[PATH_MAX];
	int status = 0;
	int first = parse_options(argc, argv, &status);

	if (first == 0)
		return status;
	if (settle_config() != 0)
		return LM_EXIT_STRICT;
	/* PROGRAM is the one the user started, even from under another shim:
	 * its missing methods are warnings. */
	unsetenv(LM_ENV_INHERITED);
	if (lm_cli_find_shim(shim, sizeof(shim)) != 0)
		return LM_EXIT_STRICT;
	if (lm_cli_set_preload(shim) != 0)
		return fail("%s", "cannot set LD_PRELOAD");
	execvp(argv[first], argv + first);
	if (errno == ENOENT || errno == ENOTDIR) {
		fprintf(stderr, "ldmemo: %s: command not found\n", argv[first]);
		return LM_EXIT_NOT_FOUND;
	}
	fprintf(stderr, "ldmemo: %s: cannot execute: %s\n", argv[first], strerror(errno));
	return 126;
}
