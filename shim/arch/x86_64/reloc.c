/* Detour analysis and prologue relocation with Zydis 4. */
#include "reloc.h"
#include "shim/base/why.h"

#include <stdio.h>
#include <string.h>

#include <Zydis/Zydis.h>

static const unsigned char endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};
static const unsigned char jmp_abs[6] = {0xff, 0x25, 0, 0, 0, 0}; /* jmp *0(%rip) */
static const unsigned char call_abs[8] = {0xff, 0x15, 2,    0,
                                          0,    0,    0xeb, 8}; /* call *2(%rip); jmp +8 */

enum insn_kind { K_PLAIN, K_JMP, K_CALL, K_JCC, K_RIPMEM };

struct insn {
	ZydisDecodedInstruction d;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
};

static bool decode(const unsigned char *p, size_t avail, struct insn *in)
{
	ZydisDecoder dec;

	if (!ZYAN_SUCCESS(ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)))
		return false;
	return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, p, avail, &in->d, in->ops));
}

bool lm_rel32_reaches(uintptr_t end, uintptr_t to)
{
	int64_t d = (int64_t)(to - end);

	return d >= INT32_MIN && d <= INT32_MAX;
}

unsigned lm_encode_jmp(unsigned char *out, uintptr_t from, uintptr_t to, bool abs)
{
	if (!abs && lm_rel32_reaches(from + LM_JMP_REL32_LEN, to)) {
		int32_t d = (int32_t)(to - (from + LM_JMP_REL32_LEN));

		out[0] = 0xe9;
		memcpy(out + 1, &d, 4);
		return LM_JMP_REL32_LEN;
	}
	memcpy(out, jmp_abs, sizeof(jmp_abs));
	memcpy(out + 6, &to, 8);
	return LM_JMP_ABS_LEN;
}

static bool has_rip_operand(const struct insn *in)
{
	for (unsigned i = 0; i < in->d.operand_count; i++)
		if (in->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    in->ops[i].mem.base == ZYDIS_REGISTER_RIP)
			return true;
	return false;
}

/* Short-only branches (jrcxz, loop*) have no rel32 form to widen to. */
static bool short_only(ZydisMnemonic m)
{
	return m == ZYDIS_MNEMONIC_JRCXZ || m == ZYDIS_MNEMONIC_JECXZ || m == ZYDIS_MNEMONIC_JCXZ ||
	       m == ZYDIS_MNEMONIC_LOOP || m == ZYDIS_MNEMONIC_LOOPE || m == ZYDIS_MNEMONIC_LOOPNE;
}

/* Classify one instruction for relocation; -1 when it cannot be moved. */
static int classify(const struct insn *in, unsigned off, char *why, size_t whylen)
{
	ZydisMnemonic m = in->d.mnemonic;
	bool rel = in->d.raw.imm[0].is_relative;

	if (short_only(m))
		return lm_why(why, whylen, "%s at +0x%x has no 32-bit form to relocate",
		              ZydisMnemonicGetString(m), off);
	if (rel && m == ZYDIS_MNEMONIC_JMP)
		return K_JMP;
	if (rel && m == ZYDIS_MNEMONIC_CALL)
		return K_CALL;
	if (rel && in->d.meta.category == ZYDIS_CATEGORY_COND_BR)
		return K_JCC;
	if (rel)
		return lm_why(why, whylen, "cannot relocate %s at +0x%x", ZydisMnemonicGetString(m),
		              off);
	if (has_rip_operand(in)) {
		if (in->d.raw.disp.size != 32 || in->d.address_width != 64)
			return lm_why(why, whylen, "cannot relocate the RIP-relative %s at +0x%x",
			              ZydisMnemonicGetString(m), off);
		return K_RIPMEM;
	}
	return K_PLAIN;
}

static bool never_falls_through(const struct insn *in)
{
	return in->d.mnemonic == ZYDIS_MNEMONIC_RET || in->d.mnemonic == ZYDIS_MNEMONIC_JMP;
}

/* Padding the compiler put after a function: int3, zero bytes, NOP forms. */
static int check_padding(const unsigned char *code, size_t len, unsigned from, unsigned to,
                         char *why, size_t whylen)
{
	unsigned p = from;
	struct insn in;

	while (p < to) {
		if (code[p] == 0xcc || code[p] == 0x00) {
			p++;
			continue;
		}
		if (!decode(code + p, len - p, &in) || in.d.mnemonic != ZYDIS_MNEMONIC_NOP)
			return lm_why(why, whylen,
			              "the function is %u bytes and the byte at +0x%x after it is "
			              "not padding",
			              from, p);
		p += in.d.length;
	}
	return 0;
}

/* A direct branch anywhere in the function into (start, start+need) would
 * land in the middle of the jump. */
static int scan_back_branches(const unsigned char *code, uintptr_t addr, uint64_t size,
                              unsigned start, unsigned need, char *why, size_t whylen)
{
	uint64_t off = 0;
	struct insn in;

	while (off < size) {
		if (!decode(code + off, size - off, &in))
			return lm_why(why, whylen, "cannot decode the instruction at +0x%llx",
			              (unsigned long long)off);
		if (in.d.raw.imm[0].is_relative) {
			uintptr_t t = addr + off + in.d.length + (uintptr_t)in.d.raw.imm[0].value.s;

			if (t > addr + start && t < addr + start + need)
				return lm_why(
				    why, whylen,
				    "a branch at +0x%llx jumps back into the first %u bytes",
				    (unsigned long long)off, start + need);
		}
		off += in.d.length;
	}
	return 0;
}

int lm_reloc_plan(const unsigned char *code, size_t len, uintptr_t addr, uint64_t size,
                  uintptr_t limit, unsigned need, struct lm_reloc_plan *plan, char *why,
                  size_t whylen)
{
	uintptr_t end_ok = limit ? limit : addr + size;
	unsigned pos, skip;
	struct insn in;

	memset(plan, 0, sizeof(*plan));
	if (size == 0)
		return lm_why(why, whylen, "the symbol size is unknown");
	if (len < size || size > UINT32_MAX)
		return lm_why(why, whylen, "only %zu of the function's %llu bytes are readable",
		              len, (unsigned long long)size);
	skip = size >= sizeof(endbr64) && !memcmp(code, endbr64, sizeof(endbr64)) ? 4 : 0;
	pos = skip;
	while (pos < skip + need && pos < size) {
		int kind;

		if (!decode(code + pos, size - pos, &in))
			return lm_why(why, whylen, "cannot decode the instruction at +0x%x", pos);
		kind = classify(&in, pos, why, whylen);
		if (kind < 0)
			return -1;
		if (kind == K_CALL && pos + in.d.length < skip + need)
			plan->inner_call = true;
		plan->terminal = never_falls_through(&in);
		pos += in.d.length;
	}
	if (addr + skip + need > end_ok)
		return lm_why(why, whylen, "the %u-byte jump would reach past the function's end",
		              need);
	if (pos < skip + need) {
		if (!plan->terminal)
			return lm_why(why, whylen,
			              "the function is %u bytes, too short for a %u-byte "
			              "jump",
			              pos, need);
		if (skip + need > len)
			return lm_why(why, whylen, "the bytes after the function are not readable");
		if (check_padding(code, len, pos, skip + need, why, whylen))
			return -1;
	}
	if (scan_back_branches(code, addr, size, skip, need, why, whylen))
		return -1;
	plan->skip = skip;
	plan->window = pos - skip;
	plan->patch = need;
	return 0;
}

int lm_reloc_emit(const unsigned char *code, uintptr_t addr, const struct lm_reloc_plan *plan,
                  unsigned char *out, size_t outlen, uintptr_t dst, char *why, size_t whylen)
{
	unsigned pos = plan->skip, end = plan->skip + plan->window;
	size_t o = 0;
	struct insn in;

	if (outlen < sizeof(endbr64) + LM_JMP_ABS_LEN)
		return lm_why(why, whylen, "no room for the trampoline");
	memcpy(out, endbr64, sizeof(endbr64));
	o = sizeof(endbr64);
	while (pos < end) {
		uintptr_t here = dst + o, src = addr + pos, target;
		int kind;

		if (!decode(code + pos, end - pos, &in))
			return lm_why(why, whylen, "cannot decode the instruction at +0x%x", pos);
		kind = classify(&in, pos, why, whylen);
		if (kind < 0)
			return -1;
		if (o + in.d.length + 16 > outlen)
			return lm_why(why, whylen, "the trampoline is too long");
		target = src + in.d.length + (uintptr_t)in.d.raw.imm[0].value.s;
		switch (kind) {
		case K_JMP:
			o += lm_encode_jmp(out + o, here, target, false);
			break;
		case K_CALL:
			if (lm_rel32_reaches(here + 5, target)) {
				int32_t d = (int32_t)(target - (here + 5));

				out[o] = 0xe8;
				memcpy(out + o + 1, &d, 4);
				o += 5;
			} else {
				memcpy(out + o, call_abs, sizeof(call_abs));
				memcpy(out + o + 8, &target, 8);
				o += 16;
			}
			break;
		case K_JCC: {
			unsigned cc = in.d.opcode & 0x0f;

			if (lm_rel32_reaches(here + 6, target)) {
				int32_t d = (int32_t)(target - (here + 6));

				out[o] = 0x0f;
				out[o + 1] = (unsigned char)(0x80 | cc);
				memcpy(out + o + 2, &d, 4);
				o += 6;
			} else {
				/* the inverse condition skips an absolute jump */
				out[o] = (unsigned char)(0x70 | (cc ^ 1));
				out[o + 1] = LM_JMP_ABS_LEN;
				o += 2;
				o += lm_encode_jmp(out + o, here + 2, target, true);
			}
			break;
		}
		case K_RIPMEM: {
			uintptr_t mem = src + in.d.length + (uintptr_t)in.d.raw.disp.value;
			int32_t d;

			if (!lm_rel32_reaches(here + in.d.length, mem))
				return lm_why(
				    why, whylen,
				    "the RIP-relative operand at +0x%x cannot reach 0x%lx "
				    "from the trampoline",
				    pos, (unsigned long)mem);
			d = (int32_t)(mem - (here + in.d.length));
			memcpy(out + o, code + pos, in.d.length);
			memcpy(out + o + in.d.raw.disp.offset, &d, 4);
			o += in.d.length;
			break;
		}
		default:
			memcpy(out + o, code + pos, in.d.length);
			o += in.d.length;
		}
		pos += in.d.length;
	}
	if (!plan->terminal) {
		if (o + LM_JMP_ABS_LEN > outlen)
			return lm_why(why, whylen, "the trampoline is too long");
		o += lm_encode_jmp(out + o, dst + o, addr + end, false);
	}
	return (int)o;
}

int lm_detour_check(const unsigned char *code, size_t len, uintptr_t addr, uint64_t size,
                    uintptr_t limit, char *why, size_t whylen)
{
	struct lm_reloc_plan plan;

	return lm_reloc_plan(code, len, addr, size, limit, LM_JMP_REL32_LEN, &plan, why, whylen);
}
