/* Bash completion (completion/ldmemo.bash, installed by make install):
 * sourced in a real bash, asked what it completes. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* The completions of the words WORDS (the last one being completed), one
 * per line, sorted and unique (malloc'd). */
static char *complete(const char *words)
{
	char cmd[PATH_MAX + 1024];
	snprintf(cmd, sizeof(cmd),
	         "bash --norc --noprofile -c 'source %s/completion/ldmemo.bash && "
	         "complete -p ldmemo >/dev/null && COMP_WORDS=(%s) && "
	         "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && { _ldmemo; true; } && "
	         "printf \"%%s\\n\" \"${COMPREPLY[@]}\" | sort -u'",
	         cli_root(), words);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	cr_assert_eq(pclose(p), 0, "%s: %s", words, buf);
	return strdup(buf);
}

static void expect(const char *words, const char *want)
{
	char *got = complete(words);
	cr_expect_str_eq(got, want, "completing %s", words);
	free(got);
}

Test(completion, subcommands_and_options)
{
	char *got = complete("ldmemo \"\"");
	for (const char *s = "check\0symbols\0stats\0ctl\0"; *s; s += strlen(s) + 1) {
		char line[32];
		snprintf(line, sizeof(line), "\n%s\n", s);
		cr_expect(strstr(got, line) || strncmp(got, line + 1, strlen(line + 1)) == 0,
		          "no %s", s);
	}
	free(got);
	expect("ldmemo --st", "--stats\n--stats-signal\n--strict\n");
	expect("ldmemo check -", "--config\n--help\n-c\n-h\n");
	expect("ldmemo symbols --c", "--config\n");
	expect("ldmemo stats -", "--all\n--format\n--help\n-a\n-f\n-h\n");
	expect("ldmemo -f \"\"", "json\nprom\ntext\n");
	expect("ldmemo --stats-signal USR", "USR1\nUSR2\n");
	expect("ldmemo ctl 1 \"\"", "--help\ninvalidate\nkeys\nstats\n");
	expect("ldmemo ctl 1 stats -f p", "prom\n");
	expect("ldmemo ctl 1 invalidate --a", "--all\n");
	expect("ldmemo ctl 1 keys m --l", "--limit\n");
	/* After PROGRAM, its own arguments: no ldmemo options. */
	expect("ldmemo -c a.conf /bin/true --st", "\n");
}
