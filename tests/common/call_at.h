/* tc_call (call_at.S): call a function with given registers, stack
 * arguments and stack alignment, as some callers do against the ABI (the
 * stack at 8 mod 16 at the call). Shared by the fast, hook and integration
 * tests; an unwinder walks through it (frame-pointer CFI). */
#ifndef TESTS_COMMON_CALL_AT_H
#define TESTS_COMMON_CALL_AT_H

#include <stdint.h>

struct tc_args {
	uint64_t gpr[6];   /*   0: rdi rsi rdx rcx r8 r9 */
	double xmm[8];     /*  48: xmm0-7 (low 8 bytes) */
	uint64_t stack[2]; /* 112: stack arguments */
	uint64_t nstack;   /* 128: 0 or 2 */
	uint64_t misalign; /* 136: rsp mod 16 at the call */
	uint64_t rax, rdx; /* 144: the results */
	double xmm0;       /* 160 */
};
_Static_assert(__builtin_offsetof(struct tc_args, xmm0) == 160, "call_at.S");

/* Call FN with the arguments of A and the stack at A->misalign mod 16 at
 * the call instruction; store rax, rdx and xmm0 back into A. */
void tc_call(void *fn, struct tc_args *a);

/* FN(X) with the stack at 8 mod 16 at the call. */
static inline long tc_misaligned(void *fn, long x)
{
	struct tc_args a = {.gpr = {(uint64_t)x}, .misalign = 8};

	tc_call(fn, &a);
	return (long)a.rax;
}

#endif
