/* The small instruction decoder (shim/arch/x86_64/insn_quick.c) against
 * Zydis: over the machine code of every object this test process maps
 * (libc, libm, the dynamic linker, libcriterion, Zydis itself, libelf...),
 * each instruction the small decoder answers must get Zydis's answer:
 * length, kind, branch target, RIP-relative displacement. It must also
 * answer most of them, or the shim would load Zydis for nearly every
 * detour. Then single encodings that matter to a detour. */
#include <criterion/criterion.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "shim/arch/x86_64/insn.h"

struct tally {
	unsigned long total, quick, wrong, extra;
	char first[512];
};

static bool same(const struct lm_insn *a, const struct lm_insn *b)
{
	return a->len == b->len && a->kind == b->kind && a->relative == b->relative &&
	       (!a->relative || a->rel == b->rel) && (a->kind != LM_INSN_JCC || a->cc == b->cc) &&
	       a->rip == b->rip && a->addr32 == b->addr32 && a->disp_bits == b->disp_bits &&
	       (!a->disp_bits || a->disp_off == b->disp_off) &&
	       (a->kind != LM_INSN_SHORT_ONLY || strcmp(a->name, b->name) == 0);
}

static void compare_at(struct tally *t, const unsigned char *p, size_t avail, const char *obj)
{
	struct lm_insn q, z;
	bool hz = lm_insn_decode_zydis(p, avail, &z), hq = lm_insn_decode_quick(p, avail, &q);

	if (!hz) {
		/* bytes Zydis refuses (data in the text): the small decoder
		 * refuses them too, but for a few VEX and EVEX prefix bits an
		 * opcode leaves undefined */
		t->extra += hq;
		return;
	}
	t->total++;
	if (!hq)
		return;
	t->quick++;
	if (!same(&q, &z)) {
		if (!t->wrong) {
			char hex[64] = "";
			for (unsigned i = 0; i < z.len && i < 15; i++)
				snprintf(hex + 3 * i, sizeof hex - 3 * i, "%02x ", p[i]);
			snprintf(t->first, sizeof t->first,
			         "%s: %s(%s): zydis len %u kind %d rel %d/%lld rip %d disp %u@%u; "
			         "quick len %u kind %d rel %d/%lld rip %d disp %u@%u",
			         obj, hex, z.name, z.len, z.kind, z.relative, (long long)z.rel,
			         z.rip, z.disp_bits, z.disp_off, q.len, q.kind, q.relative,
			         (long long)q.rel, q.rip, q.disp_bits, q.disp_off);
		}
		t->wrong++;
	}
}

/* A linear sweep of each executable segment: gcc's padding decodes as
 * instructions, so the sweep keeps in step; where Zydis refuses a byte it
 * moves on by one. */
static int sweep(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct tally *t = arg;
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X) || !(ph->p_flags & PF_R))
			continue;
		const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		size_t n = ph->p_memsz, off = 0;
		const char *obj = info->dlpi_name[0] ? info->dlpi_name : "(program)";
		while (off < n) {
			struct lm_insn z;
			size_t avail = n - off < 15 ? n - off : 15;
			compare_at(t, p + off, avail, obj);
			off += lm_insn_decode_zydis(p + off, avail, &z) ? z.len : 1;
		}
	}
	return 0;
}

Test(insn, the_small_decoder_agrees_with_zydis_on_every_mapped_object)
{
	struct tally t = {0};

	dl_iterate_phdr(sweep, &t);
	cr_log_info("%lu instructions, %lu decoded without Zydis (%.1f%%), %lu differ, "
	            "%lu accepted that Zydis refuses",
	            t.total, t.quick, 100.0 * (double)t.quick / (double)t.total, t.wrong, t.extra);
	cr_expect_gt(t.total, 500000, "the sweep saw too little code");
	cr_expect_eq(t.wrong, 0, "%lu differ; first: %s", t.wrong, t.first);
	cr_expect_lt(t.extra, t.total / 5000, "%lu accepted that Zydis refuses", t.extra);
	cr_expect_gt(t.quick, t.total / 100 * 97, "only %lu of %lu decoded without Zydis", t.quick,
	             t.total);
}

/* The encodings a detour must get right, each with Zydis's answer. */
Test(insn, branch_and_rip_relative_forms)
{
	static const struct {
		const char *what;
		unsigned char b[15];
		unsigned n;
		enum lm_insn_kind kind;
	} cases[] = {
	    {"endbr64", {0xf3, 0x0f, 0x1e, 0xfa}, 4, LM_INSN_OTHER},
	    {"jmp rel8", {0xeb, 0xfe}, 2, LM_INSN_JMP},
	    {"jmp rel32", {0xe9, 0x10, 0, 0, 0}, 5, LM_INSN_JMP},
	    {"call rel32", {0xe8, 0xf0, 0xff, 0xff, 0xff}, 5, LM_INSN_CALL},
	    {"jne rel8", {0x75, 0x05}, 2, LM_INSN_JCC},
	    {"jle rel32", {0x0f, 0x8e, 0x00, 0x01, 0, 0}, 6, LM_INSN_JCC},
	    {"jmp *disp(%rip)", {0xff, 0x25, 0x10, 0, 0, 0}, 6, LM_INSN_JMP},
	    {"call *disp(%rip)", {0xff, 0x15, 0x10, 0, 0, 0}, 6, LM_INSN_CALL},
	    {"mov disp(%rip),%rax", {0x48, 0x8b, 0x05, 1, 2, 3, 4}, 7, LM_INSN_OTHER},
	    {"lea disp(%rip),%rdi", {0x48, 0x8d, 0x3d, 1, 2, 3, 4}, 7, LM_INSN_OTHER},
	    {"cmpl $1,disp(%rip)", {0x83, 0x3d, 1, 2, 3, 4, 1}, 7, LM_INSN_OTHER},
	    {"movl $imm,disp(%rip)", {0xc7, 0x05, 1, 2, 3, 4, 5, 6, 7, 8}, 10, LM_INSN_OTHER},
	    {"testb $1,disp(%rip)", {0xf6, 0x05, 1, 2, 3, 4, 1}, 7, LM_INSN_OTHER},
	    {"vmovdqu disp(%rip),%ymm0", {0xc5, 0xfe, 0x6f, 0x05, 1, 2, 3, 4}, 8, LM_INSN_OTHER},
	    {"mov %fs:0x28,%rax", {0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0, 0, 0}, 9, LM_INSN_OTHER},
	    {"movabs $imm64,%rax", {0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8}, 10, LM_INSN_OTHER},
	    {"sub $0x18,%rsp", {0x48, 0x83, 0xec, 0x18}, 4, LM_INSN_OTHER},
	    {"nopw %cs:0(%rax,%rax)",
	     {0x66, 0x2e, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0},
	     10,
	     LM_INSN_NOP},
	    {"ret", {0xc3}, 1, LM_INSN_RET},
	    {"jrcxz", {0xe3, 0x02}, 2, LM_INSN_SHORT_ONLY},
	    /* the linker's relaxed call through the GOT (libcrypt's crypt_r) */
	    {"addr32 call rel32", {0x67, 0xe8, 2, 5, 0, 0}, 6, LM_INSN_CALL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct lm_insn q, z;
		cr_assert(lm_insn_decode_zydis(cases[i].b, cases[i].n, &z), "%s: zydis",
		          cases[i].what);
		cr_assert(lm_insn_decode_quick(cases[i].b, cases[i].n, &q), "%s: not decoded",
		          cases[i].what);
		cr_expect_eq(q.len, cases[i].n, "%s", cases[i].what);
		cr_expect_eq(q.kind, cases[i].kind, "%s", cases[i].what);
		cr_expect(same(&q, &z), "%s: not Zydis's answer", cases[i].what);
	}
}

/* What the small decoder leaves to Zydis: the full decoder then answers. */
Test(insn, unusual_forms_go_to_zydis)
{
	static const struct {
		const char *what;
		unsigned char b[15];
		unsigned n;
	} cases[] = {
	    {"xbegin rel32", {0xc7, 0xf8, 0, 0, 0, 0}, 6},
	    {"addr32 mov", {0x67, 0x8b, 0x05, 1, 2, 3, 4}, 7},
	    {"jmp rel16 (66)", {0x66, 0xe9, 1, 2}, 4},
	    {"retf", {0xcb}, 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct lm_insn q, z;
		cr_expect_not(lm_insn_decode_quick(cases[i].b, cases[i].n, &q), "%s",
		              cases[i].what);
		if (lm_insn_decode_zydis(cases[i].b, cases[i].n, &z)) {
			cr_expect(lm_insn_decode(cases[i].b, cases[i].n, &q), "%s", cases[i].what);
			cr_expect(same(&q, &z), "%s", cases[i].what);
		}
	}
	/* cut short: no answer, never a read past the end */
	struct lm_insn q;
	static const unsigned char part[] = {0x48, 0x8b, 0x05, 1, 2};
	cr_expect_not(lm_insn_decode_quick(part, sizeof part, &q));
	cr_expect_not(lm_insn_decode(part, sizeof part, &q));
}
