/* A test hook: counts calls, answers as told, records results. */
#ifndef TESTS_HOOK_PROBE_H
#define TESTS_HOOK_PROBE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "shim/hook/hook.h"

struct probe {
	int action;       /* what enter returns */
	uint64_t ret_rax; /* for LM_ENTER_RETURN */
	double ret_xmm0;  /* for LM_ENTER_RETURN */
	atomic_long enters, leaves;
	atomic_long unwounds; /* the original left by unwinding (the thunk's personality) */
	uint64_t arg0;        /* rdi at the last enter */
	uint64_t last_rax;    /* ret_rax at the last leave */
	double last_xmm0;     /* ret_xmm0 at the last leave */
	uint64_t stack0;      /* first stack argument at the last enter */
	bool unwind;          /* enter and leave look for CALLER in a backtrace */
	const char *caller;   /* NULL: cfix_caller */
	atomic_int saw_caller;
};

/* Hook FN (NAME) with P as its context; size from the dynamic symbol,
 * limit the next 16-byte boundary unless LIMIT. NULL + WHY on refusal. */
struct lm_hook *probe_hook(const char *name, void *fn, uintptr_t limit, enum lm_hook_mode mode,
                           struct probe *p, uint64_t stack_bytes, char *why, size_t whylen);

#endif
