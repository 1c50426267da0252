/* The program's signal handlers: sigaction and the signal() family are
 * interposed (exported on purpose, see ldmemo.map) so that each handler
 * the program installs runs inside lm_handler_call, which marks the thread
 * as inside a handler (base/handler.h). A hooked call made there runs
 * uncached: its miss would allocate, and the handler may have interrupted
 * the program's malloc while it held malloc's locks, a deadlock the
 * program itself does not have.
 *
 * The program sees only its own handlers: sigaction reports the handler
 * and flags it installed, never the wrapper, so code that chains to or
 * compares with a previous handler works unchanged. Handlers installed by
 * a raw rt_sigaction system call are not seen, and run as before. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>

#include "shim/base/handler.h"

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

/* Per signal: the program's handler (called with three arguments in
 * either form) and whether it asked for SA_SIGINFO, to report back. */
static lm_handler_fn prog_fn[NSIG];
static bool prog_siginfo[NSIG];
static sigaction_fn real_sigaction;

static void wrapper(int sig, siginfo_t *si, void *uc)
{
	lm_handler_fn fn = __atomic_load_n(&prog_fn[sig], __ATOMIC_ACQUIRE);
	if (fn)
		lm_handler_call(fn, sig, si, uc);
}

static sigaction_fn real(void)
{
	sigaction_fn f = __atomic_load_n(&real_sigaction, __ATOMIC_ACQUIRE);
	if (!f) {
		f = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
		__atomic_store_n(&real_sigaction, f, __ATOMIC_RELEASE);
	}
	return f;
}

static bool is_handler(const struct sigaction *a)
{
	return a->sa_handler != SIG_DFL && a->sa_handler != SIG_IGN;
}

__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction *act,
                                                     struct sigaction *oact)
{
	sigaction_fn f = real();
	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP)
		return f(sig, act, oact);

	struct sigaction cur;
	if (f(sig, NULL, &cur) != 0)
		return -1;
	if (cur.sa_sigaction == wrapper) {
		/* the program's view: its own handler, its own flags */
		cur.sa_sigaction = __atomic_load_n(&prog_fn[sig], __ATOMIC_ACQUIRE);
		if (!__atomic_load_n(&prog_siginfo[sig], __ATOMIC_RELAXED))
			cur.sa_flags &= ~SA_SIGINFO;
	}
	if (act) {
		int rc;
		if (is_handler(act)) {
			struct sigaction w = *act;
			w.sa_sigaction = wrapper;
			w.sa_flags |= SA_SIGINFO;
			__atomic_store_n(&prog_siginfo[sig], (act->sa_flags & SA_SIGINFO) != 0,
			                 __ATOMIC_RELAXED);
			__atomic_store_n(&prog_fn[sig], (lm_handler_fn)act->sa_sigaction,
			                 __ATOMIC_RELEASE);
			rc = f(sig, &w, NULL);
		} else {
			rc = f(sig, act, NULL);
		}
		if (rc != 0)
			return -1;
	}
	if (oact)
		*oact = cur;
	return 0;
}

/* glibc's signal() and bsd_signal() call its internal sigaction, which
 * the interposition above does not see: they are built on it here, with
 * the same BSD semantics (restart, the signal blocked in its handler). */
static __sighandler_t install(int sig, __sighandler_t handler, int flags, bool self_mask)
{
	struct sigaction a = {.sa_handler = handler, .sa_flags = flags}, old;
	sigemptyset(&a.sa_mask);
	if (self_mask && sig > 0 && sig < NSIG && sigaddset(&a.sa_mask, sig) != 0)
		return SIG_ERR;
	if (sigaction(sig, &a, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}

__attribute__((visibility("default"))) __sighandler_t signal(int sig, __sighandler_t handler)
{
	return install(sig, handler, SA_RESTART, true);
}

__attribute__((visibility("default"))) __sighandler_t bsd_signal(int sig, __sighandler_t handler)
{
	return install(sig, handler, SA_RESTART, true);
}

/* System V semantics: the handler is reset at delivery and not blocked. */
__attribute__((visibility("default"))) __sighandler_t sysv_signal(int sig, __sighandler_t handler)
{
	return install(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}
