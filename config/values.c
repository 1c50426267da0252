/* Single values of spec 3.2 (durations, sizes, booleans) and the stats
 * settings shared with the environment. Digits are read by hand: strtoull
 * would touch errno, and the shim must never change it visibly. */
#include <signal.h>
#include <string.h>
#include <strings.h>

#include "config.h"

/* Leading decimal digits of S into *V; returns the count, -1 on overflow. */
static int digits(const char *s, uint64_t *v)
{
	int n = 0;
	*v = 0;
	for (; s[n] >= '0' && s[n] <= '9'; n++) {
		uint64_t d = (uint64_t)(s[n] - '0');
		if (*v > (UINT64_MAX - d) / 10)
			return -1;
		*v = *v * 10 + d;
	}
	return n;
}

int lm_parse_duration(const char *s, int64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {{"ms", 1},    {"s", 1000},    {"", 1000},
	             {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	uint64_t v;
	int n;

	if (!s)
		return -1;
	if (strcmp(s, "never") == 0) {
		*ms = LM_DUR_NEVER;
		return 0;
	}
	n = digits(s, &v);
	if (n <= 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + n, units[i].unit) != 0)
			continue;
		/* LM_DUR_NEVER itself is reserved for `never`. */
		if (v > (uint64_t)(INT64_MAX - 1) / units[i].ms)
			return -1;
		*ms = (int64_t)(v * units[i].ms);
		return 0;
	}
	return -1;
}

int lm_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		int shift;
	} units[] = {{"", 0},   {"B", 0},    {"K", 10}, {"KiB", 10},
	             {"M", 20}, {"MiB", 20}, {"G", 30}, {"GiB", 30}};
	uint64_t v;
	int n;

	if (!s)
		return -1;
	n = digits(s, &v);
	if (n <= 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + n, units[i].unit) != 0)
			continue;
		if (v > (UINT64_MAX >> units[i].shift))
			return -1;
		*bytes = v << units[i].shift;
		return 0;
	}
	return -1;
}

int lm_parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = {"on", "yes", "true", "1"};
	static const char *const no[] = {"off", "no", "false", "0"};

	if (!s)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -1;
}

int lm_parse_stats_format(const char *s, enum lm_stats_format *f)
{
	if (!s)
		return -1;
	if (strcmp(s, "text") == 0)
		*f = LM_FMT_TEXT;
	else if (strcmp(s, "json") == 0)
		*f = LM_FMT_JSON;
	else if (strcmp(s, "prom") == 0)
		*f = LM_FMT_PROM;
	else
		return -1;
	return 0;
}

/* "stderr", "fd:N" (N a decimal descriptor number) or a non-empty path
 * template: refused at start, not found out at exit. */
int lm_parse_stats_dest(const char *s)
{
	uint64_t v;
	int n;

	if (!s || !*s)
		return -1;
	if (strncmp(s, "fd:", 3) != 0)
		return 0;
	n = digits(s + 3, &v);
	return n > 0 && !s[3 + n] && v <= INT32_MAX ? 0 : -1;
}

/* KILL and STOP are left out: a dump cannot be tied to them. */
int lm_parse_signal(const char *s, int *signo)
{
	static const struct {
		const char *name;
		int signo;
	} sigs[] = {
	    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"USR1", SIGUSR1},
	    {"USR2", SIGUSR2},     {"TERM", SIGTERM}, {"ALRM", SIGALRM},   {"CHLD", SIGCHLD},
	    {"CONT", SIGCONT},     {"PIPE", SIGPIPE}, {"WINCH", SIGWINCH}, {"PROF", SIGPROF},
	    {"VTALRM", SIGVTALRM}, {"IO", SIGIO},     {"POLL", SIGPOLL},   {"PWR", SIGPWR},
	    {"URG", SIGURG},       {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},
	    {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"SYS", SIGSYS},     {"TRAP", SIGTRAP}};
	uint64_t v;
	int n;

	if (!s)
		return -1;
	n = digits(s, &v);
	if (n > 0) {
		if (s[n] || v < 1 || v >= (uint64_t)NSIG || v == SIGKILL || v == SIGSTOP)
			return -1;
		*signo = (int)v;
		return 0;
	}
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (strcmp(s, sigs[i].name) == 0) {
			*signo = sigs[i].signo;
			return 0;
		}
	}
	return -1;
}
