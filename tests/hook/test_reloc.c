/* Relocation of prologues on byte arrays: plan, emit, re-decode. */
#include <criterion/criterion.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "shim/hook/hook.h"
#include "shim/arch/x86_64/reloc.h"

#define ADDR ((uintptr_t)0x400000)
#define NEAR (ADDR + 0x10000000)     /* 256 MB away: rel32 reaches */
#define FAR  (ADDR + 0x300000000ull) /* 12 GB away: it does not */

struct decoded {
	ZydisDecodedInstruction in;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

static void decode_at(const unsigned char *p, size_t len, struct decoded *d)
{
	ZydisDecoder dec;

	ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	cr_assert(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, p, len, &d->in, d->ops)));
}

/* absolute address of operand I of the instruction at runtime address AT */
static uint64_t target_of(struct decoded *d, unsigned i, uintptr_t at)
{
	ZyanU64 abs = 0;

	cr_assert(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&d->in, &d->ops[i], at, &abs)));
	return abs;
}

static int relocate(const unsigned char *code, size_t len, uint64_t size, uintptr_t limit,
                    uintptr_t dst, unsigned char *out, struct lm_reloc_plan *plan)
{
	char why[160] = "";
	int n;

	cr_assert_eq(lm_reloc_plan(code, len, ADDR, size, limit, 5, plan, why, sizeof(why)), 0,
	             "%s", why);
	n = lm_reloc_emit(code, ADDR, plan, out, LM_TRAMPOLINE_MAX, dst, why, sizeof(why));
	cr_assert_gt(n, 0, "%s", why);
	return n;
}

/* the jump back at OUT+OFF goes to TO */
static void assert_jumps_to(const unsigned char *out, int n, unsigned off, uintptr_t dst,
                            uintptr_t to)
{
	struct decoded d;

	decode_at(out + off, n - off, &d);
	cr_assert_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JMP);
	cr_assert_eq(off + d.in.length, (unsigned)n);
	cr_assert_eq(target_of(&d, 0, dst + off), to);
}

Test(reloc, rip_relative_mov_keeps_its_target)
{
	/* xor eax,eax; mov rax,[rip+0x100]; ret */
	unsigned char code[] = {0x31, 0xc0, 0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, 0xc3};
	unsigned char out[LM_TRAMPOLINE_MAX];
	struct lm_reloc_plan plan;
	struct decoded d;
	int n = relocate(code, sizeof(code), sizeof(code), 0, NEAR, out, &plan);

	cr_assert_eq(plan.window, 9);
	cr_assert_eq(memcmp(out + 4, code, 2), 0);
	decode_at(out + 6, n - 6, &d);
	cr_assert_eq(d.in.mnemonic, ZYDIS_MNEMONIC_MOV);
	cr_assert_eq(target_of(&d, 1, NEAR + 6), ADDR + 9 + 0x100);
	assert_jumps_to(out, n, 6 + d.in.length, NEAR, ADDR + 9);
}

Test(reloc, rip_relative_lea_keeps_its_target)
{
	/* lea rcx,[rip-0x40]; ret */
	unsigned char code[] = {0x48, 0x8d, 0x0d, 0xc0, 0xff, 0xff, 0xff, 0xc3};
	unsigned char out[LM_TRAMPOLINE_MAX];
	struct lm_reloc_plan plan;
	struct decoded d;
	int n = relocate(code, sizeof(code), sizeof(code), 0, NEAR, out, &plan);

	decode_at(out + 4, n - 4, &d);
	cr_assert_eq(d.in.mnemonic, ZYDIS_MNEMONIC_LEA);
	cr_assert_eq(target_of(&d, 1, NEAR + 4), ADDR + 7 - 0x40);
}

Test(reloc, rip_relative_out_of_reach_is_refused)
{
	unsigned char code[] = {0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, 0xc3};
	unsigned char out[LM_TRAMPOLINE_MAX];
	struct lm_reloc_plan plan;
	char why[160] = "";

	cr_assert_eq(
	    lm_reloc_plan(code, sizeof(code), ADDR, sizeof(code), 0, 5, &plan, why, sizeof(why)),
	    0);
	cr_assert_eq(lm_reloc_emit(code, ADDR, &plan, out, sizeof(out), FAR, why, sizeof(why)), -1);
	cr_assert(strstr(why, "RIP-relative"), "%s", why);
}

Test(reloc, rel8_jcc_is_widened)
{
	/* test rdi,rdi; je +5; lea rax,[rdi+1]; ret; mov eax,42; ret */
	unsigned char code[] = {0x48, 0x85, 0xff, 0x74, 0x05, 0x48, 0x8d, 0x47,
	                        0x01, 0xc3, 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};
	unsigned char out[LM_TRAMPOLINE_MAX];
	struct lm_reloc_plan plan;
	struct decoded d;
	int n = relocate(code, sizeof(code), sizeof(code), 0, NEAR, out, &plan);

	decode_at(out + 7, n - 7, &d);
	cr_assert_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JZ);
	cr_assert_eq(d.in.raw.imm[0].size, 32);
	cr_assert_eq(target_of(&d, 0, NEAR + 7), ADDR + 10);
	assert_jumps_to(out, n, 7 + d.in.length, NEAR, ADDR + 5);
}

Test(reloc, rel8_jcc_out_of_reach_uses_an_absolute_jump)
{
	unsigned char code[] = {0x48, 0x85, 0xff, 0x74, 0x05, 0x48, 0x8d, 0x47,
	                        0x01, 0xc3, 0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};
	unsigned char out[LM_TRAMPOLINE_MAX];
	struct lm_reloc_plan plan;
	struct decoded d;
	int n = relocate(code, sizeof(code), sizeof(code), 0, FAR, out, &plan);
	uint64_t abs;

	decode_at(out + 7, n - 7, &d);
	cr_assert_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JNZ); /* the inverse skips the jump */
	cr_assert_eq(target_of(&d, 0, FAR + 7), FAR + 9 + 14);
	cr_assert_eq(memcmp(out + 9, "\xff\x25\0\0\0\0", 6), 0);
	memcpy(&abs, out + 15, 8);
	cr_assert_eq(abs, ADDR + 10);
}

Test(reloc, rel32_call_is_retargeted)
{
	/* call +0x1000; add rax,rdi; ret */
	unsigned char code[] = {0xe8, 0x00, 0x10, 0x00, 0x00, 0x48, 0x01, 0xf8, 0xc3};
	unsigned char out[LM_TRAMPOLINE_MAX];
	struct lm_reloc_plan plan;
	struct decoded d;
	int n = relocate(code, sizeof(code), sizeof(code), 0, NEAR, out, &plan);

	cr_assert_not(plan.inner_call);
	decode_at(out + 4, n - 4, &d);
	cr_assert_eq(d.in.mnemonic, ZYDIS_MNEMONIC_CALL);
	cr_assert_eq(target_of(&d, 0, NEAR + 4), ADDR + 5 + 0x1000);
	assert_jumps_to(out, n, 4 + d.in.length, NEAR, ADDR + 5);
}

Test(reloc, far_call_becomes_an_absolute_call)
{
	unsigned char code[] = {0xe8, 0x00, 0x10, 0x00, 0x00, 0x48, 0x01, 0xf8, 0xc3};
	unsigned char out[LM_TRAMPOLINE_MAX];
	struct lm_reloc_plan plan;
	uint64_t abs;

	relocate(code, sizeof(code), sizeof(code), 0, FAR, out, &plan);
	cr_assert_eq(memcmp(out + 4, "\xff\x15\x02\0\0\0\xeb\x08", 8), 0);
	memcpy(&abs, out + 12, 8);
	cr_assert_eq(abs, ADDR + 5 + 0x1000);
}

Test(reloc, endbr64_stays_in_place)
{
	/* endbr64; lea rax,[rdi+7]; add rax,1; ret */
	unsigned char code[] = {0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8d, 0x47,
	                        0x07, 0x48, 0x83, 0xc0, 0x01, 0xc3};
	unsigned char out[LM_TRAMPOLINE_MAX];
	struct lm_reloc_plan plan;
	int n = relocate(code, sizeof(code), sizeof(code), 0, NEAR, out, &plan);

	cr_assert_eq(plan.skip, 4);
	cr_assert_eq(plan.window, 8);
	cr_assert_eq(memcmp(out, code, 4), 0, "the trampoline starts with endbr64");
	cr_assert_eq(memcmp(out + 4, code + 4, 8), 0);
	assert_jumps_to(out, n, 12, NEAR, ADDR + 12);
}

Test(reloc, jrcxz_is_refused)
{
	unsigned char code[] = {0xe3, 0x03, 0x48, 0x89, 0xf8, 0xc3, 0x31, 0xc0, 0xc3};
	struct lm_reloc_plan plan;
	char why[160] = "";

	cr_assert_eq(
	    lm_reloc_plan(code, sizeof(code), ADDR, sizeof(code), 0, 5, &plan, why, sizeof(why)),
	    -1);
	cr_assert(strstr(why, "jrcxz"), "%s", why);
}

Test(reloc, back_jump_into_the_patch_is_refused)
{
	/* xor eax,eax; L: add rax,rdi; dec rdi; jnz L; ret */
	unsigned char code[] = {0x31, 0xc0, 0x48, 0x01, 0xf8, 0x48, 0xff, 0xcf, 0x75, 0xf8, 0xc3};
	char why[160] = "";

	cr_assert_eq(lm_detour_check(code, sizeof(code), ADDR, sizeof(code), 0, why, sizeof(why)),
	             -1);
	cr_assert(strstr(why, "a branch at +0x8 jumps back"), "%s", why);
}

Test(reloc, short_function_followed_by_padding_is_accepted)
{
	/* lea eax,[rdi]; ret; int3; xchg ax,ax; int3 ... */
	unsigned char code[16] = {0x8d, 0x07, 0xc3, 0xcc, 0x66, 0x90};
	unsigned char out[LM_TRAMPOLINE_MAX];
	struct lm_reloc_plan plan;
	int n;

	memset(code + 6, 0xcc, sizeof(code) - 6);
	n = relocate(code, sizeof(code), 3, ADDR + 16, NEAR, out, &plan);
	cr_assert(plan.terminal);
	cr_assert_eq(plan.window, 3);
	cr_assert_eq(n, 4 + 3, "no jump back after the ret");
}

Test(reloc, short_function_without_padding_is_refused)
{
	/* lea eax,[rdi]; ret; then the next function's code */
	unsigned char code[] = {0x8d, 0x07, 0xc3, 0x48, 0x89, 0xf8, 0xc3};
	char why[160] = "";

	cr_assert_eq(
	    lm_detour_check(code, sizeof(code), ADDR, 3, ADDR + sizeof(code), why, sizeof(why)),
	    -1);
	cr_assert(strstr(why, "not padding"), "%s", why);
	cr_assert_eq(lm_detour_check(code, sizeof(code), ADDR, 3, ADDR + 3, why, sizeof(why)), -1);
	cr_assert(strstr(why, "past"), "%s", why);
}

Test(reloc, unknown_size_is_refused)
{
	unsigned char code[] = {0x48, 0x8d, 0x47, 0x07, 0x48, 0x83, 0xc0, 0x01, 0xc3};
	char why[160] = "";

	cr_assert_eq(lm_detour_check(code, sizeof(code), ADDR, 0, 0, why, sizeof(why)), -1);
	cr_assert(strstr(why, "size"), "%s", why);
	cr_assert_eq(lm_detour_check(code, sizeof(code), ADDR, sizeof(code), 0, why, sizeof(why)),
	             0, "%s", why);
}

Test(reloc, short_jmp_at_entry_is_widened)
{
	/* jmp +0x10; then 16 bytes of int3 and a ret */
	unsigned char code[19] = {0xeb, 0x10};
	unsigned char out[LM_TRAMPOLINE_MAX];
	struct lm_reloc_plan plan;
	struct decoded d;
	int n;

	memset(code + 2, 0xcc, 16);
	code[18] = 0xc3;
	n = relocate(code, sizeof(code), sizeof(code), 0, NEAR, out, &plan);
	decode_at(out + 4, n - 4, &d);
	cr_assert_eq(d.in.mnemonic, ZYDIS_MNEMONIC_JMP);
	cr_assert_eq(target_of(&d, 0, NEAR + 4), ADDR + 0x12);
}
