/* ldmemo profile (spec section 10): run PROGRAM once with the shim in
 * profile mode, read the records its processes wrote, rank the functions
 * by the saving a cache would bring, say on stderr which rule left each
 * one out, and write the config of the rest to FILE. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "config/defaults.h"
#include "profile_rank.h"
#include "shim/base/clock.h"
#include "shim/profile/profile.h"

static const char usage[] =
    "usage: ldmemo profile [-o FILE] [--top N] [--functions GLOB]... [--] PROGRAM [ARG...]\n"
    "Run PROGRAM once counting the functions it and its libraries import;\n"
    "print them ranked by the time a cache would save, and write the config\n"
    "of those worth caching to FILE.";

/* What the shim reads for prototypes: every known file, by path. */
static char *protos_list(const struct lm_known *k)
{
	size_t len = 1;
	for (size_t i = 0; i < k->n; i++)
		len += strlen(k->v[i].cfg.file) + 1;
	char *s = calloc(1, len);
	for (size_t i = 0; s && i < k->n; i++) {
		if (i)
			strcat(s, ":");
		strcat(s, k->v[i].cfg.file);
	}
	return s;
}

/* --functions: what PROGRAM's debug information says of the functions
 * GLOB matches, as `ldmemo symbols --config --prototypes` writes it
 * (pointer results commented out: their ownership is unknown; purity is
 * the profile's to sample), added to K after the known table. The file goes to PATH. */
static void dwarf_protos(const char *program, const char *glob, const char *path,
                         struct lm_known *k)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen(path, "w", stdout) || !freopen("/dev/null", "w", stderr))
			_exit(1);
		execl("/proc/self/exe", "ldmemo", "symbols", "--config", "--prototypes", program,
		      glob, (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return;
	if (lm_known_add_file(k, path) != 0)
		fprintf(stderr, "ldmemo: profile: %s: no prototypes from the debug information\n",
		        glob);
}

/* Free P, return RC: the early returns of lm_cmd_profile. */
static int drop(char *p, int rc)
{
	free(p);
	return rc;
}

/* Run PROGRAM with the profile environment; its wait status. */
static int run_program(char **argv, const char *dir, const char *protos, const char *functions,
                       const char *shim)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		if (lm_cli_set_preload(shim) != 0 || setenv(LM_ENV_PROFILE, dir, 1) != 0 ||
		    setenv(LM_ENV_PROFILE_PROTOS, protos, 1) != 0 ||
		    (functions && setenv(LM_ENV_PROFILE_FUNCTIONS, functions, 1) != 0))
			_exit(LM_EXIT_STRICT);
		unsetenv(LM_ENV_CONFIG);
		execvp(argv[0], argv);
		fprintf(stderr, "ldmemo: %s: %s\n", argv[0],
		        errno == ENOENT ? "command not found" : strerror(errno));
		_exit(errno == ENOENT ? LM_EXIT_NOT_FOUND : 126);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(dir);
}

int lm_cmd_profile(int argc, char **argv)
{
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
	                                     {"top", required_argument, NULL, 't'},
	                                     {"functions", required_argument, NULL, 'F'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *out = NULL;
	long top = 20;
	int opt;
	char *functions = NULL; /* the patterns, one a line */
	size_t flen = 0;

	if (lm_cli_help(argc, argv, usage))
		return 0;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:o:", opts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'F': {
			char *nf = realloc(functions, flen + strlen(optarg) + 2);
			if (!nf)
				return drop(functions, LM_EXIT_STRICT);
			functions = nf;
			flen += (size_t)sprintf(functions + flen, "%s%s", flen ? "\n" : "", optarg);
			break;
		}
		case 't':
			top = strtol(optarg, &end, 10);
			if (*end || top <= 0)
				return drop(functions,
				            lm_cli_usage_error("--top: not a positive number: '%s'",
				                               optarg));
			break;
		case ':':
			return drop(functions, lm_cli_usage_error("option '%s' needs a value",
			                                          argv[optind - 1]));
		default:
			return drop(functions,
			            lm_cli_usage_error("unknown option '%s'", argv[optind - 1]));
		}
	}
	if (optind >= argc)
		return drop(functions, lm_cli_usage_error("missing PROGRAM"));

	char shim[PATH_MAX], dir[] = "/tmp/ldmemo-profile.XXXXXX";
	if (lm_cli_find_shim(shim, sizeof shim) != 0)
		return drop(functions, LM_EXIT_STRICT);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "ldmemo: cannot make a directory for the records: %s\n",
		        strerror(errno));
		return drop(functions, LM_EXIT_STRICT);
	}
	struct lm_known known;
	lm_known_load(&known);
	if (functions) {
		char program[PATH_MAX], *save = NULL, *copy = strdup(functions);
		int i = 0;
		lm_cli_find_program(argv[optind], program, sizeof program);
		for (char *g = copy ? strtok_r(copy, "\n", &save) : NULL; g;
		     g = strtok_r(NULL, "\n", &save)) {
			char path[PATH_MAX];
			snprintf(path, sizeof path, "%s/dwarf-%d.conf", dir, i++);
			dwarf_protos(program, g, path, &known);
		}
		free(copy);
	}
	char *protos = protos_list(&known);

	int64_t t0 = lm_now_ns();
	int st = run_program(argv + optind, dir, protos ? protos : "", functions, shim);
	free(protos);
	free(functions);
	int64_t wall = lm_now_ns() - t0;
	int status = st < 0 ? LM_EXIT_STRICT : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

	struct lm_prof_set set;
	int nfiles = lm_prof_read_dir(dir, &set);
	remove_dir(dir);
	if (nfiles <= 0) {
		fprintf(stderr,
		        "ldmemo: profile: %s wrote no records (it never exited normally, "
		        "or is statically linked)\n",
		        argv[optind]);
		lm_known_free(&known);
		return status;
	}
	lm_prof_rank(&set, &known, wall);
	lm_prof_table(&set, (size_t)top, stderr);
	if (out) {
		FILE *f = fopen(out, "we");
		if (!f) {
			fprintf(stderr, "ldmemo: %s: %s\n", out, strerror(errno));
			status = status ? status : 1;
		} else {
			lm_prof_config(&set, &known, argc - optind, argv + optind, f);
			if (fclose(f) != 0) {
				fprintf(stderr, "ldmemo: %s: %s\n", out, strerror(errno));
				status = status ? status : 1;
			} else {
				fprintf(stderr, "ldmemo: profile: config written to %s\n", out);
			}
		}
	}
	lm_prof_free(&set);
	lm_known_free(&known);
	return status;
}
