/* Fixtures and the register harness of the fast-thunk tests. */
#ifndef TESTS_FAST_FIXTURES_H
#define TESTS_FAST_FIXTURES_H

#include <stdint.h>

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

#endif
