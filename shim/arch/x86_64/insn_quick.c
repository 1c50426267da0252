/* The small length decoder (insn.h): legacy prefixes, REX, the one-byte,
 * 0F, 0F38 and 0F3A maps, VEX and EVEX; ModRM, SIB, displacement and
 * immediate sizes. Anything unusual (a 0x67 address size but on the
 * linker's `addr32 call`, a 0x66 on a
 * branch, far returns, 3DNow!, XOP, control registers, transactional
 * begins, invalid opcodes) is left to Zydis: a wrong length here would
 * misplace a detour, so the rule is to know or to refuse.
 * tests/hook/test_insn.c compares every answer with Zydis over the code
 * of every library the test process maps. */
#include "insn.h"

#include <string.h>

/* What follows an opcode. */
enum {
	N = 0,     /* nothing */
	M = 1,     /* ModRM */
	I8 = 2,    /* imm8 */
	IZ = 4,    /* imm16/32 by operand size */
	X = 8,     /* not known here: Zydis decides */
	G = 16,    /* ModRM, immediate by its reg field (F6, F7, C6, C7) */
	R8 = 32,   /* rel8 */
	R32 = 64,  /* rel32 */
	IV = 128,  /* imm16/32/64 (mov r, imm) */
	IW = 256,  /* imm16 */
	IWB = 512, /* imm16 + imm8 (enter) */
	MO = 1024, /* moffs64 */
};

/* The one-byte map in 64-bit mode; prefixes, REX, VEX, EVEX, 0F are
 * taken before the table is read. */
// clang-format off
static const unsigned short one[256] = {
    /* 00 */ M, M, M, M, I8, IZ, X, X, M, M, M, M, I8, IZ, X, X,
    /* 10 */ M, M, M, M, I8, IZ, X, X, M, M, M, M, I8, IZ, X, X,
    /* 20 */ M, M, M, M, I8, IZ, X, X, M, M, M, M, I8, IZ, X, X,
    /* 30 */ M, M, M, M, I8, IZ, X, X, M, M, M, M, I8, IZ, X, X,
    /* 40 */ X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    /* 50 */ N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N,
    /* 60 */ X, X, X, M, X, X, X, X, IZ, M | IZ, I8, M | I8, N, N, N, N,
    /* 70 */ R8, R8, R8, R8, R8, R8, R8, R8, R8, R8, R8, R8, R8, R8, R8, R8,
    /* 80 */ M | I8, M | IZ, X, M | I8, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 90 */ N, N, N, N, N, N, N, N, N, N, X, N, N, N, N, N,
    /* a0 */ MO, MO, MO, MO, N, N, N, N, I8, IZ, N, N, N, N, N, N,
    /* b0 */ I8, I8, I8, I8, I8, I8, I8, I8, IV, IV, IV, IV, IV, IV, IV, IV,
    /* c0 */ M | I8, M | I8, IW, N, X, X, G, G, IWB, N, X, X, N, I8, X, N,
    /* d0 */ M, M, M, M, X, X, X, N, M, M, M, M, M, M, M, M,
    /* e0 */ R8, R8, R8, R8, I8, I8, I8, I8, R32, R32, X, R8, N, N, N, N,
    /* f0 */ X, N, X, X, N, N, G, G, N, N, N, N, N, N, M, M,
};
// clang-format on

/* The 0F map (legacy encodings; VEX and EVEX use its ModRM rule with
 * their own immediates, below). */
// clang-format off
static const unsigned short two[256] = {
    /* 00 */ M, X, M, M, X, N, N, N, N, N, X, N, X, M, X, X,
    /* 10 */ M, M, M, M, M, M, M, M, M, X, X, X, X, X, M, M,
    /* 20 */ X, X, X, X, X, X, X, X, M, M, M, M, M, M, M, M,
    /* 30 */ N, N, N, N, N, N, X, N, X, X, X, X, X, X, X, X,
    /* 40 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 50 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 60 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* 70 */ M | I8, M | I8, M | I8, M | I8, M, M, M, N, X, X, X, X, M, M, M, M,
    /* 80 */ R32, R32, R32, R32, R32, R32, R32, R32, R32, R32, R32, R32, R32, R32, R32, R32,
    /* 90 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* a0 */ N, N, N, M, M | I8, M, X, X, N, N, N, M, M | I8, M, M, M,
    /* b0 */ M, M, M, M, M, M, M, M, M, M, M | I8, M, M, M, M, M,
    /* c0 */ M, M, M | I8, M, M | I8, M | I8, M | I8, M, N, N, N, N, N, N, N, N,
    /* d0 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* e0 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
    /* f0 */ M, M, M, M, M, M, M, M, M, M, M, M, M, M, M, M,
};
// clang-format on

/* Map 0F opcodes that VEX and EVEX define (the rest, legacy-only, is
 * left to Zydis, which refuses them). */
static bool vex0f_defined(unsigned op)
{
	return (op >= 0x10 && op <= 0x17) || (op >= 0x28 && op <= 0x2f) ||
	       (op >= 0x41 && op <= 0x4b) || (op >= 0x50 && op <= 0x7f) ||
	       (op >= 0x90 && op <= 0x93) || op == 0x98 || op == 0x99 || op == 0xae || op == 0xc2 ||
	       (op >= 0xc4 && op <= 0xc6) || op >= 0xd0;
}

/* Map 0F opcodes that take an imm8 under VEX and EVEX too. */
static bool vex0f_imm8(unsigned op)
{
	return (op >= 0x70 && op <= 0x73) || op == 0xc2 || (op >= 0xc4 && op <= 0xc6);
}

/* ModRM (and SIB, displacement) at P; its length or 0 when past END. */
static unsigned modrm(const unsigned char *p, const unsigned char *end, struct lm_insn *in,
                      const unsigned char *start)
{
	if (p >= end)
		return 0;
	unsigned mod = p[0] >> 6, rm = p[0] & 7, n = 1, disp = 0;
	if (mod != 3 && rm == 4) {
		if (p + 1 >= end)
			return 0;
		n++;
		if (mod == 0 && (p[1] & 7) == 5)
			disp = 4;
	}
	if (mod == 1)
		disp = 1;
	else if (mod == 2)
		disp = 4;
	else if (mod == 0 && rm == 5) {
		disp = 4;
		in->rip = true;
	}
	if (disp) {
		in->disp_off = (unsigned)(p + n - start);
		in->disp_bits = disp * 8;
	}
	return n + disp;
}

static int64_t read_rel(const unsigned char *p, unsigned size)
{
	if (size == 1)
		return (int8_t)p[0];
	int32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* The kinds and names of the one-byte and 0F opcodes that branch or
 * return; every other instruction is LM_INSN_OTHER. */
static void classify_one(struct lm_insn *in, unsigned op, unsigned reg, bool pause, bool rexb)
{
	static const char *const loops[4] = {"loopne", "loope", "loop", "jrcxz"};
	if (op >= 0x70 && op <= 0x7f) {
		in->kind = LM_INSN_JCC;
		in->cc = op & 15;
	} else if (op >= 0xe0 && op <= 0xe3) {
		in->kind = LM_INSN_SHORT_ONLY;
		in->name = loops[op - 0xe0];
	} else if (op == 0xe8 || (op == 0xff && (reg == 2 || reg == 3))) {
		in->kind = LM_INSN_CALL;
	} else if (op == 0xe9 || op == 0xeb || (op == 0xff && (reg == 4 || reg == 5))) {
		in->kind = LM_INSN_JMP;
	} else if (op == 0xc3 || op == 0xc2) {
		in->kind = LM_INSN_RET;
	} else if (op == 0x90 && !pause && !rexb) {
		in->kind = LM_INSN_NOP;
	}
}

/* ModRM forms the one-byte map leaves undefined (lea of a register,
 * segment registers 6 and 7, a load of CS, x87's reserved memory forms);
 * x87's register forms, a zoo of their own, are left to Zydis. */
static bool one_valid(unsigned op, unsigned mbyte)
{
	unsigned mod = mbyte >> 6, reg = (mbyte >> 3) & 7;

	if (op == 0x8d)
		return mod != 3;
	if (op == 0x8c)
		return reg <= 5;
	if (op == 0x8e)
		return reg <= 5 && reg != 1;
	if (op >= 0xd8 && op <= 0xdf) {
		if (mod == 3)
			return false;
		return !((op == 0xd9 && reg == 1) || (op == 0xdb && (reg == 4 || reg == 6)) ||
		         (op == 0xdd && reg == 5));
	}
	return true;
}

/* LOCK is defined only on a read-modify-write of memory. OP2: the 0F
 * map's opcode when OP is 0x0f. */
static bool lockable(unsigned op, unsigned op2, unsigned mbyte)
{
	unsigned reg = (mbyte >> 3) & 7;

	if ((mbyte >> 6) == 3)
		return false;
	if (op == 0x0f)
		return op2 == 0xab || op2 == 0xb3 || op2 == 0xbb || (op2 == 0xba && reg >= 4) ||
		       op2 == 0xb0 || op2 == 0xb1 || op2 == 0xc0 || op2 == 0xc1 ||
		       (op2 == 0xc7 && reg == 1);
	if (op < 0x40)
		return (op & 7) <= 1 && (op & 0x38) != 0x38;
	return ((op == 0x80 || op == 0x81 || op == 0x83) && reg != 7) || op == 0x86 || op == 0x87 ||
	       ((op == 0xf6 || op == 0xf7) && (reg == 2 || reg == 3)) ||
	       ((op == 0xfe || op == 0xff) && reg <= 1);
}

bool lm_insn_decode_quick(const unsigned char *code, size_t avail, struct lm_insn *in)
{
	const unsigned char *p = code, *end = code + (avail < 15 ? avail : 15);
	bool opsize = false, f3 = false, f2 = false, lock = false, rexw = false, rexb = false;
	unsigned flags, op, op2 = 0, reg = 0, mbyte = 0;

	memset(in, 0, sizeof(*in));
	/* legacy prefixes, then at most one REX right before the opcode */
	for (; p < end; p++) {
		if (*p == 0x66)
			opsize = true;
		else if (*p == 0xf3)
			f3 = true;
		else if (*p == 0xf2)
			f2 = true;
		else if (*p == 0x67)
			in->addr32 = true;
		else if (*p == 0xf0)
			lock = true;
		else if (!(*p == 0x2e || *p == 0x36 || *p == 0x3e || *p == 0x26 || *p == 0x64 ||
		           *p == 0x65))
			break;
	}
	if (p < end && (*p & 0xf0) == 0x40) {
		rexw = *p & 8;
		rexb = *p & 1;
		p++;
	}
	if (p >= end)
		return false;
	op = *p++;
	if (op == 0xc4 || op == 0xc5 || op == 0x62) {
		/* VEX or EVEX: no legacy prefix or REX may come before */
		if (p - 1 != code)
			return false;
		unsigned map, plen = op == 0xc5 ? 1 : op == 0xc4 ? 2 : 3;
		if (p + plen >= end)
			return false;
		map = op == 0xc5 ? 1 : op == 0xc4 ? (p[0] & 0x1f) : (p[0] & 7);
		if (map < 1 || map > 3 || (op == 0x62 && (p[0] & 0x08)))
			return false;
		p += plen;
		unsigned vop = *p++;
		if (map == 1 && vop == 0x77 && op != 0x62) {
			in->len = (unsigned)(p - code); /* vzeroupper, vzeroall */
			return true;
		}
		if (map == 1 && !vex0f_defined(vop))
			return false;
		unsigned n = modrm(p, end, in, code);
		if (!n)
			return false;
		p += n + (map == 3 || (map == 1 && vex0f_imm8(vop)));
	} else if (op == 0x0f) {
		if (p >= end)
			return false;
		op2 = *p++;
		mbyte = p < end ? *p : 0;
		if (op2 == 0x38 || op2 == 0x3a) {
			if (p >= end)
				return false;
			p++;
			unsigned n = modrm(p, end, in, code);
			if (!n)
				return false;
			p += n + (op2 == 0x3a);
		} else {
			flags = two[op2];
			if (flags & X)
				return false;
			if (op2 == 0xb8 && !f3) /* jmpe without F3; F3: popcnt */
				return false;
			if ((flags & M) && p >= end)
				return false;
			/* the hint space: nop /0, prefetch /0-3, endbr64 and endbr32 */
			if (op2 == 0x1f && ((*p >> 3) & 7))
				return false;
			if (op2 == 0x1f && !f3 && !f2)
				in->kind = LM_INSN_NOP;
			if (op2 == 0x18 && ((*p >> 3) & 7) > 3)
				return false;
			if (op2 == 0x1e && (!f3 || f2 || (*p != 0xfa && *p != 0xfb)))
				return false;
			if (flags & M) {
				unsigned n = modrm(p, end, in, code);
				if (!n)
					return false;
				p += n;
			}
			if (flags & I8)
				p++;
			if (flags & R32) {
				if (opsize)
					return false;
				in->kind = LM_INSN_JCC;
				in->cc = op2 & 15;
				in->relative = true;
				if (p + 4 > end)
					return false;
				in->rel = read_rel(p, 4);
				p += 4;
			}
		}
	} else {
		flags = one[op];
		if (flags & X)
			return false;
		if (flags & (M | G)) {
			if (p >= end)
				return false;
			mbyte = *p;
			reg = (mbyte >> 3) & 7;
			if (op == 0x8f && reg) /* XOP */
				return false;
			if (op == 0xfe && reg > 1)
				return false;
			if (op == 0xff && reg == 7)
				return false;
			if (op == 0xff && (reg == 3 || reg == 5)) /* far: Zydis names them */
				return false;
			if (!one_valid(op, mbyte))
				return false;
			unsigned n = modrm(p, end, in, code);
			if (!n)
				return false;
			p += n;
		}
		if (flags & G) {
			if ((op == 0xc6 || op == 0xc7) && mbyte == 0xf8) {
				if (op == 0xc7) /* xbegin rel32 */
					return false;
				p++; /* xabort imm8 */
			} else if ((op == 0xf6 || op == 0xf7) ? reg <= 1 : reg == 0) {
				p += (op & 1) ? (opsize ? 2 : 4) : 1;
			} else if (op == 0xc6 || op == 0xc7) {
				return false;
			}
		}
		if (flags & I8)
			p++;
		if (flags & IZ)
			p += opsize ? 2 : 4;
		if (flags & IV)
			p += rexw ? 8 : opsize ? 2 : 4;
		if (flags & IW)
			p += 2;
		if (flags & IWB)
			p += 3;
		if (flags & MO) { /* the address is Zydis's displacement */
			in->disp_off = (unsigned)(p - code);
			in->disp_bits = 64;
			p += 8;
		}
		if (flags & (R8 | R32)) {
			unsigned size = (flags & R8) ? 1 : 4;
			if (opsize || p + size > end)
				return false;
			in->relative = true;
			in->rel = read_rel(p, size);
			p += size;
		}
		classify_one(in, op, reg, f3, rexb);
	}
	if (p > end || (lock && !lockable(op, op2, mbyte)))
		return false;
	/* 0x67 only on a direct call: the linker's `addr32 call`, which
	 * replaces a call through the GOT (-fno-plt) or __tls_get_addr's */
	if (in->addr32 && !(op == 0xe8 && in->kind == LM_INSN_CALL))
		return false;
	in->len = (unsigned)(p - code);
	return true;
}
