/* Invariant checks for debug builds (LM_DEBUG, on in the sanitizer runs),
 * gone from release builds: the expression is not even evaluated there,
 * so a check may be as costly as it needs. */
#ifndef LM_ASSERT_H
#define LM_ASSERT_H

#ifdef LM_DEBUG
/* Writes what failed, where, to stderr, and aborts. */
__attribute__((noreturn, cold)) void lm_assert_fail(const char *what, const char *file, int line,
                                                    const char *func);
#define LM_ASSERT(e) \
	(__builtin_expect(!!(e), 1) ? (void)0 : lm_assert_fail(#e, __FILE__, __LINE__, __func__))
#else
#define LM_ASSERT(e) ((void)sizeof(!(e)))
#endif

#endif
