/* The functions the fast-thunk tests hook: one per key shape and result
 * kind. Each counts its runs and leaves errno at a value of its key, so a
 * hit that skips it is visible. And the register harness's checks. */
#include "tests/fast/helpers.h"

#include <criterion/criterion.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stddef.h>

/* Aligned so that the 5-byte patch is one atomic write whatever the
 * optimization level (the sanitizer builds use -O1, which does not align). */
#define FIX __attribute__((noinline, aligned(16), visibility("default")))

volatile long fx_runs;

struct fx_regs fx_canaries(void)
{
	struct fx_regs r;
	for (int i = 0; i < R_NGPR; i++)
		r.gpr[i] = 0x5a5a000000000000ull + (uint64_t)i * 0x1111;
	for (int i = 0; i < 16; i++) {
		r.xmm[i][0] = 0xc0de000000000000ull + (uint64_t)i;
		r.xmm[i][1] = 0xfeed000000000000ull + (uint64_t)i;
	}
	return r;
}

void fx_expect_kept(const struct fx_regs *in, const struct fx_regs *out, int result_gpr,
                    int result_xmm, const char *what)
{
	for (int i = 0; i < R_NGPR; i++)
		if (i != result_gpr)
			cr_expect_eq(out->gpr[i], in->gpr[i], "%s: gpr %d changed", what, i);
	for (int i = 0; i < 16; i++)
		if (i != result_xmm)
			cr_expect(out->xmm[i][0] == in->xmm[i][0] &&
			              out->xmm[i][1] == in->xmm[i][1],
			          "%s: xmm%d changed", what, i);
}

FIX long fx_rdi(long x)
{
	fx_runs++;
	errno = (int)(x & 63);
	return x * 3 + 1;
}

FIX double fx_xmm0(double x)
{
	fx_runs++;
	errno = 7;
	return x * 0.5 - 1.0;
}

FIX void fx_void(long x)
{
	fx_runs++;
	errno = (int)(x & 31);
}

FIX long fx_rsi(void *ignored, long x)
{
	(void)ignored;
	fx_runs++;
	return x - 11;
}

FIX int fx_rdi_rsi(int a, int b)
{
	fx_runs++;
	return a * 1000 + b;
}

FIX double fx_xmm0_xmm1(double a, double b)
{
	fx_runs++;
	return a * b + 0.25;
}

FIX double fx_xmm0_rdi(double a, int n)
{
	fx_runs++;
	return a * n;
}

FIX long fx_rdi_xmm0(long a, double b)
{
	fx_runs++;
	return a + (long)(b * 10);
}

FIX long fx_rsi_rdx(void *ignored, long a, long b)
{
	(void)ignored;
	fx_runs++;
	return a * 100 + b;
}

FIX long fx_rdi_rdx(long a, void *ignored, long b)
{
	(void)ignored;
	fx_runs++;
	return a * 10 - b;
}

FIX long fx_none(void)
{
	fx_runs++;
	return 424242;
}

FIX float fx_float(float x)
{
	fx_runs++;
	return x * 2.0f;
}

FIX long fx_u32(unsigned x)
{
	fx_runs++;
	return (long)x + 7;
}

/* The out shape: 64 bytes of a pattern of X and the run, so that bytes a
 * hit copies from another key's copy or another run show. */
FIX int fx_out(long x, unsigned char *buf)
{
	fx_runs++;
	errno = (int)(x & 15);
	for (int i = 0; buf && i < 64; i++)
		buf[i] = (unsigned char)(x * 7 + i * 13);
	return (int)(x % 1000) - 500;
}

FIX void fx_out_void(long x, unsigned char *buf)
{
	fx_runs++;
	for (int i = 0; i < 16; i++)
		buf[i] = (unsigned char)(x + i);
}

/* The string shape: a result of the whole string, so that a hit answered
 * for another string shows. */
FIX long fx_str(const char *s)
{
	fx_runs++;
	if (!s)
		return -1;
	unsigned long h = 7; /* unsigned: it wraps */
	size_t n = 0;
	for (; s[n]; n++)
		h = h * 31 + (unsigned char)s[n];
	errno = (int)(n & 31);
	return (long)h;
}

/* A static result (lm_thunk_static's tests): one buffer, rewritten by
 * every run. */
FIX struct fx_rec *fx_static(long id)
{
	static struct fx_rec r;
	fx_runs++;
	r.id = id;
	r.name = "ran";
	errno = 9;
	return &r;
}

struct lm_hook_req fx_hook_req(const char *name, void *fn)
{
	const ElfW(Sym) *sym = NULL;
	Dl_info info;
	cr_assert(dladdr1(fn, &info, (void **)&sym, RTLD_DL_SYMENT) && sym, "%s", name);
	return (struct lm_hook_req){
	    .name = name,
	    .addr = (uintptr_t)fn,
	    .size = sym->st_size,
	    .limit = ((uintptr_t)fn + sym->st_size + 15) & ~(uintptr_t)15,
	    .object = info.dli_fname,
	    .mode = LM_HM_DETOUR,
	};
}
