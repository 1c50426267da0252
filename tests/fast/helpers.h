/* Fixtures and the register harness of the fast-thunk tests. */
#ifndef TESTS_FAST_FIXTURES_H
#define TESTS_FAST_FIXTURES_H

#include <stdint.h>

#include "shim/hook/hook.h"

extern volatile long fx_runs;

long fx_rdi(long x);
double fx_xmm0(double x);
void fx_void(long x);
long fx_rsi(void *ignored, long x);
int fx_rdi_rsi(int a, int b);
double fx_xmm0_xmm1(double a, double b);
double fx_xmm0_rdi(double a, int n);
long fx_rdi_xmm0(long a, double b);
long fx_rsi_rdx(void *ignored, long a, long b);
long fx_rdi_rdx(long a, void *ignored, long b);
long fx_none(void);
float fx_float(float x);
long fx_u32(unsigned x);
int fx_out(long x, unsigned char *buf);
void fx_out_void(long x, unsigned char *buf);
long fx_str(const char *s);
struct fx_rec {
	long id;
	const char *name;
};
struct fx_rec *fx_static(long id);

/* Every caller-saved register: rax rcx rdx rsi rdi r8 r9 r10 r11, then
 * xmm0..xmm15. */
enum { R_RAX, R_RCX, R_RDX, R_RSI, R_RDI, R_R8, R_R9, R_R10, R_R11, R_NGPR };
struct fx_regs {
	uint64_t gpr[R_NGPR];
	uint64_t xmm[16][2];
};

/* Load IN into every caller-saved register, call FN, store them all into
 * OUT (regs.S). */
void fx_call(void *fn, const struct fx_regs *in, struct fx_regs *out);
/* Distinct values in every register. */
struct fx_regs fx_canaries(void);
/* Every register but the result's (RESULT_GPR or RESULT_XMM, -1: none)
 * came back as IN had it (criterion expectations). */
void fx_expect_kept(const struct fx_regs *in, const struct fx_regs *out, int result_gpr,
                    int result_xmm, const char *what);

/* A detour request for the fixture FN named NAME: its address, size and
 * object from its symbol, its reach to the next 16-byte boundary. The
 * caller adds its enter, leave and entry. */
struct lm_hook_req fx_hook_req(const char *name, void *fn);

#endif
