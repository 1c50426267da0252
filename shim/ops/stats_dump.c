#include "stats_dump.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config/defaults.h"
#include "shim/call/adaptive.h"
#include "shim/call/counters.h"
#include "shim/base/log.h"
#include "persist.h"
#include "shim/call/runtime.h"
#include "stats_format.h"
#include "stats_snapshot.h"
#include "shim/base/guard.h"

static char *dest; /* "stderr", "fd:N" or a path template; NULL: no dump */
static enum lm_stats_format format;
static int dump_signal;
/* Dumps this process has written to a path: the first one replaces the
 * file, the later ones (signals, then exit) are appended to it, so that a
 * second dump does not overwrite the first. %n in the template numbers
 * them instead, one file each. */
static _Atomic unsigned dumps_done;

static void expand_path(const char *tmpl, unsigned seq, char *out, size_t len)
{
	extern char *program_invocation_short_name;
	size_t n = 0;
	for (const char *p = tmpl; *p && n + 1 < len; p++) {
		if (p[0] == '%' && (p[1] == 'p' || p[1] == 'e' || p[1] == 'n')) {
			char tmp[PATH_MAX];
			if (p[1] == 'p')
				snprintf(tmp, sizeof tmp, "%d", (int)getpid());
			else if (p[1] == 'n')
				snprintf(tmp, sizeof tmp, "%u", seq);
			else
				snprintf(tmp, sizeof tmp, "%s", program_invocation_short_name);
			for (const char *t = tmp; *t && n + 1 < len; t++)
				out[n++] = *t;
			p++;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

/* The destination as an fd; *owned says the caller closes it. */
static int open_dest(const char *dest, int *owned)
{
	*owned = 0;
	if (strcmp(dest, "stderr") == 0)
		return lm_log_fd();
	if (strncmp(dest, "fd:", 3) == 0) {
		char *end;
		long fd = strtol(dest + 3, &end, 10);
		return *end || fd < 0 || fd > INT_MAX ? -1 : (int)fd;
	}
	char path[PATH_MAX];
	unsigned seq = atomic_fetch_add(&dumps_done, 1);
	bool numbered = strstr(dest, "%n") != NULL;
	expand_path(dest, seq, path, sizeof path);
	int fd =
	    open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (seq == 0 || numbered ? O_TRUNC : O_APPEND),
	         0644);
	*owned = fd >= 0;
	return fd;
}

static void dump(const char *dest)
{
	if (!dest || !lm_rt)
		return;
	LM_KEEP_ERRNO();
	lm_guard_enter();
	int owned;
	int fd = open_dest(dest, &owned);
	if (fd < 0 || lm_stats_write(fd, format) != 0)
		lm_warn("cannot write statistics to %s", dest);
	if (owned)
		close(fd);
	lm_guard_leave();
}

/* A dump signal with no destination set still shows the numbers: asking
 * for them must not kill the program with the signal's default action. */
static void on_signal(int sig)
{
	(void)sig;
	dump(dest ? dest : "stderr");
}

/* A program that installs its own handler for the dump signal ends the
 * dumps without a word from the kernel: said once, at exit, at info. */
static void say_if_signal_taken(void)
{
	struct sigaction cur;
	if (dump_signal <= 0 || sigaction(dump_signal, NULL, &cur) != 0)
		return;
	if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == on_signal)
		return;
	lm_info("signal %d (%s): the program installed its own handler, so it did not dump "
	        "statistics after that",
	        dump_signal, strsignal(dump_signal));
}

/* Did any method see a call? A process that made none (a wrapper script's
 * helpers) writes no text table: 35 empty tables hid the one that
 * counted. */
static bool any_calls(void)
{
	for (uint32_t id = 0; id < lm_rt->nmethods; id++)
		if (lm_counters_sum(id, LM_C_hits) || lm_counters_sum(id, LM_C_misses) ||
		    lm_counters_sum(id, LM_C_bypassed) || lm_counters_sum(id, LM_C_calls) ||
		    lm_adaptive_bypassed(&lm_rt->methods[id]))
			return true;
	return false;
}

static void child_after_fork(void)
{
	lm_counters_reset();
	lm_adaptive_reset_counts();
	atomic_store(&dumps_done, 0);
}

/* The snapshot's records live in pages mapped for this dump alone: mmap is
 * a plain system call (unlike malloc, safe in a signal handler), and dumps
 * running at once in several threads or nested in a handler share
 * nothing. */
int lm_stats_write(int fd, enum lm_stats_format fmt)
{
	const struct lm_runtime *rt = lm_rt;
	if (!rt)
		return -1;
	LM_KEEP_ERRNO();
	size_t n = rt->nmethods ? rt->nmethods : 1;
	size_t len = n * (sizeof(struct lm_snap_method) + sizeof(struct lm_snap_writer));
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		return -1;
	}
	struct lm_snap_method *methods = mem;
	struct lm_snap_writer *writers = (struct lm_snap_writer *)(methods + n);
	struct lm_snapshot s;
	lm_snapshot_collect(rt, &s, methods, writers);
	int rc = lm_stats_render(&s, fd, fmt, fmt == LM_FMT_TEXT && isatty(fd));
	munmap(mem, len);
	return rc;
}

void lm_stats_setup(struct lm_runtime *rt)
{
	const struct lm_global *g = &rt->cfg.global;
	const char *d = getenv(LM_ENV_STATS);
	if (d && *d && lm_parse_stats_dest(d) != 0) {
		lm_warn("%s=%s: not a destination (stderr, fd:N or a path): no statistics dump",
		        LM_ENV_STATS, d);
		d = NULL;
	}
	dest = d && *d ? strdup(d) : (g->stats ? strdup(g->stats) : NULL);
	if (dest && strncmp(dest, "fd:", 3) == 0 && fcntl(atoi(dest + 3), F_GETFD) < 0) {
		lm_warn("statistics destination %s: descriptor not open: no statistics dump", dest);
		free(dest);
		dest = NULL;
	}
	format = g->stats_format;
	const char *f = getenv(LM_ENV_STATS_FORMAT);
	if (f && *f && lm_parse_stats_format(f, &format) != 0)
		lm_warn("%s=%s: not a format (text, json, prom)", LM_ENV_STATS_FORMAT, f);
	dump_signal = g->stats_signal;
	const char *s = getenv(LM_ENV_STATS_SIGNAL);
	if (s && *s && lm_parse_signal(s, &dump_signal) != 0)
		lm_warn("%s=%s: not a signal", LM_ENV_STATS_SIGNAL, s);
	if (dump_signal > 0) {
		struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
		sigemptyset(&sa.sa_mask);
		if (sigaction(dump_signal, &sa, NULL) != 0)
			lm_warn("cannot catch signal %d for statistics", dump_signal);
	}
	pthread_atfork(NULL, NULL, child_after_fork);
}

/* At normal exit, after the program's own destructors: the shim's
 * constructor ran before theirs. The cache is persisted first, so that a
 * dump that fails cannot cost it. */
__attribute__((destructor)) static void lm_stats_at_exit(void)
{
	if (lm_rt)
		say_if_signal_taken();
	if (lm_rt) {
		LM_KEEP_ERRNO();
		lm_guard_enter();
		lm_persist_save(lm_rt);
		lm_guard_leave();
	}
	if (lm_rt && format == LM_FMT_TEXT && !any_calls())
		return;
	dump(dest);
}
