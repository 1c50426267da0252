/* ldmemo: dispatches to a subcommand, or runs a program with the shim. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config/defaults.h"

void lm_cli_usage(FILE *f)
{
	fputs("Usage: ldmemo [-c CONFIG] [-s DEST] [-f FORMAT] [--stats-signal SIG] [-v]\n"
	      "              [--strict] [--verify] [--] PROGRAM [ARG...]\n"
	      "       ldmemo check [-c CONFIG] PROGRAM\n"
	      "       ldmemo symbols [--config] PROGRAM [GLOB]\n"
	      "       ldmemo profile [-o FILE] [--top N] [--] PROGRAM [ARG...]\n"
	      "       ldmemo stats [-f FORMAT] [-a] FILE\n"
	      "       ldmemo ctl PID (stats [-f FORMAT] | invalidate METHOD [VALUE...] |\n"
	      "                       invalidate --all | keys METHOD [--limit N])\n"
	      "       ldmemo ctl host NAMESPACE (stats [-f FORMAT] | invalidate METHOD|--all)\n"
	      "       ldmemo --help | --version\n"
	      "\n"
	      "Run PROGRAM with libldmemo.so preloaded, so that the functions named in CONFIG\n"
	      "are answered from a cache.\n"
	      "\n"
	      "  -c, --config CONFIG  the config file (sets LDMEMO_CONFIG, made absolute); one\n"
	      "                       that cannot be read stops ldmemo with status 125\n"
	      "  -s, --stats DEST     dump statistics at exit to DEST: stderr, fd:N or a path\n"
	      "                       (%p: pid, %e: program name, %n: dump number; without\n"
	      "                       %n later dumps are appended) (sets LDMEMO_STATS)\n"
	      "  -f, --format FORMAT  statistics format: text, json or prom (LDMEMO_STATS_FORMAT)\n"
	      "      --stats-signal SIG\n"
	      "                       dump statistics on signal SIG too, and go on (USR2,\n"
	      "                       SIGUSR2 or a number) (sets LDMEMO_STATS_SIGNAL)\n"
	      "  -v, --verbose        report each hooked method at start-up (LDMEMO_LOG=info)\n"
	      "      --strict         stop PROGRAM with status 125 on any config error or\n"
	      "                       unhookable method (LDMEMO_STRICT=1)\n"
	      "      --verify         run every method in verify mode (LDMEMO_MODE=verify)\n"
	      "  -h, --help           this text\n"
	      "  -V, --version        the version\n"
	      "\n"
	      "check    validates CONFIG (-c, else $LDMEMO_CONFIG) and, without running\n"
	      "         PROGRAM, resolves each method in it and the libraries it would load:\n"
	      "         object, address, binding, size, and how it would be hooked.\n"
	      "symbols  lists the function symbols of PROGRAM and its libraries whose names\n"
	      "         match the shell pattern GLOB (default: all); with --config, config\n"
	      "         sections for them, read from their debug information (DWARF).\n"
	      "profile  runs PROGRAM once counting the functions it and its libraries\n"
	      "         import (calls, time, distinct keys, impurity), prints them ranked\n"
	      "         by the time a cache would save (-o FILE: writes the config of\n"
	      "         those worth caching; --top N: rows shown, default 20).\n"
	      "stats    re-renders statistics dumped in json format (FILE, - for stdin)\n"
	      "         as text, json or prom; the last dump, or every one with -a.\n"
	      "ctl      talks to a running process whose control socket is on\n"
	      "         (LDMEMO_CONTROL=1 or control = on): prints its statistics now, or\n"
	      "         drops the entries of METHOD whose key parameters equal the VALUEs\n"
	      "         (numbers, \"strings\" or * for any; none: the whole method), or\n"
	      "         lists METHOD's keys with their age and time left (at most N,\n"
	      "         default 100; 0: all).\n"
	      "\n"
	      "PROGRAM without a slash is looked up in PATH.\n"
	      "\n"
	      "Exit status:\n"
	      "  run      PROGRAM's; 125 when ldmemo itself fails (shim not found, config\n"
	      "           unreadable, bad environment); 126 PROGRAM cannot be executed; 127\n"
	      "           PROGRAM not found\n"
	      "  check    0 every method hookable; 1 some are not, or PROGRAM is missing or\n"
	      "           not an x86-64 ELF file; 2 config error, no config, or the config\n"
	      "           disagrees with the debug information (DWARF)\n"
	      "  profile  PROGRAM's\n"
	      "  symbols  0; 1 PROGRAM is missing or not an x86-64 ELF file\n"
	      "  stats    0; 1 FILE cannot be read or is not a json dump\n"
	      "  ctl      0 done; 1 the process answered an error; 2 it cannot be reached\n"
	      "           (no such process, control off, permission)\n"
	      "  2 for a usage error everywhere\n"
	      "\n"
	      "Environment:\n"
	      "  LDMEMO_CONFIG        config file, when -c is not given\n"
	      "  LDMEMO_SHIM          the libldmemo.so to preload (default: next to ldmemo,\n"
	      "                       then BINDIR/../lib/ldmemo/libldmemo.so)\n"
	      "  LD_PRELOAD           kept; the shim is put first, never twice\n"
	      "  LDMEMO_STATS, LDMEMO_STATS_FORMAT, LDMEMO_STATS_SIGNAL, LDMEMO_LOG,\n"
	      "  LDMEMO_STRICT, LDMEMO_MODE, LDMEMO_CONTROL, LDMEMO_DISABLE\n"
	      "                       read by the shim; see the manual\n",
	      f);
}

bool lm_cli_help(int argc, char **argv, const char *usage)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			printf("%s\n", usage);
			return true;
		}
	}
	return false;
}

int lm_cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ldmemo: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'ldmemo --help' for more information.\n", stderr);
	return LM_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return lm_cli_usage_error("missing PROGRAM");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		lm_cli_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("ldmemo %s\n", LDMEMO_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "symbols") == 0)
		return lm_cmd_symbols(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return lm_cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "stats") == 0)
		return lm_cmd_stats(argc - 1, argv + 1);
	if (strcmp(argv[1], "profile") == 0)
		return lm_cmd_profile(argc - 1, argv + 1);
	if (strcmp(argv[1], "ctl") == 0)
		return lm_cmd_ctl(argc - 1, argv + 1);
	return lm_cmd_run(argc, argv);
}
