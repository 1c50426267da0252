/* Detour analysis and prologue relocation over decoded instructions
 * (insn.h). */
#include "reloc.h"
#include "insn.h"
#include "shim/base/why.h"

#include <stdio.h>
#include <string.h>

static const unsigned char endbr64[4] = {0xf3, 0x0f, 0x1e, 0xfa};
static const unsigned char jmp_abs[6] = {0xff, 0x25, 0, 0, 0, 0}; /* jmp *0(%rip) */
static const unsigned char call_abs[8] = {0xff, 0x15, 2,    0,
                                          0,    0,    0xeb, 8}; /* call *2(%rip); jmp +8 */

enum insn_kind { K_PLAIN, K_JMP, K_CALL, K_JCC, K_RIPMEM };

static int32_t read_disp32(const unsigned char *p)
{
	int32_t v;

	memcpy(&v, p, 4);
	return v;
}

static const char *name_of(const struct lm_insn *in)
{
	return in->name ? in->name : "instruction";
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

/* Classify one instruction for relocation; -1 when it cannot be moved. */
static int classify(const struct lm_insn *in, unsigned off, char *why, size_t whylen)
{
	if (in->kind == LM_INSN_SHORT_ONLY)
		return lm_why(why, whylen, "%s at +0x%x has no 32-bit form to relocate",
		              name_of(in), off);
	if (in->relative && in->kind == LM_INSN_JMP)
		return K_JMP;
	if (in->relative && in->kind == LM_INSN_CALL)
		return K_CALL;
	if (in->relative && in->kind == LM_INSN_JCC)
		return K_JCC;
	if (in->relative)
		return lm_why(why, whylen, "cannot relocate %s at +0x%x", name_of(in), off);
	if (in->rip) {
		if (in->disp_bits != 32 || in->addr32)
			return lm_why(why, whylen, "cannot relocate the RIP-relative %s at +0x%x",
			              name_of(in), off);
		return K_RIPMEM;
	}
	return K_PLAIN;
}

static bool never_falls_through(const struct lm_insn *in)
{
	return in->kind == LM_INSN_RET || in->kind == LM_INSN_JMP;
}

/* Padding the compiler put after a function: int3, zero bytes, NOP forms. */
static int check_padding(const unsigned char *code, size_t len, unsigned from, unsigned to,
                         char *why, size_t whylen)
{
	unsigned p = from;
	struct lm_insn in;

	while (p < to) {
		if (code[p] == 0xcc || code[p] == 0x00) {
			p++;
			continue;
		}
		if (!lm_insn_decode(code + p, len - p, &in) || in.kind != LM_INSN_NOP)
			return lm_why(why, whylen,
			              "the function is %u bytes and the byte at +0x%x after it is "
			              "not padding",
			              from, p);
		p += in.len;
	}
	return 0;
}

/* A direct branch anywhere in the function into (start, start+need) would
 * land in the middle of the jump. */
static int scan_back_branches(const unsigned char *code, uintptr_t addr, uint64_t size,
                              unsigned start, unsigned need, char *why, size_t whylen)
{
	uint64_t off = 0;
	struct lm_insn in;

	while (off < size) {
		if (!lm_insn_decode(code + off, size - off, &in))
			return lm_why(why, whylen, "cannot decode the instruction at +0x%llx",
			              (unsigned long long)off);
		if (in.relative) {
			uintptr_t t = addr + off + in.len + (uintptr_t)in.rel;

			if (t > addr + start && t < addr + start + need)
				return lm_why(
				    why, whylen,
				    "a branch at +0x%llx jumps back into the first %u bytes",
				    (unsigned long long)off, start + need);
		}
		off += in.len;
	}
	return 0;
}

int lm_reloc_plan(const unsigned char *code, size_t len, uintptr_t addr, uint64_t size,
                  uintptr_t limit, unsigned need, struct lm_reloc_plan *plan, char *why,
                  size_t whylen)
{
	uintptr_t end_ok = limit ? limit : addr + size;
	unsigned pos, skip;
	struct lm_insn in;

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

		if (!lm_insn_decode(code + pos, size - pos, &in))
			return lm_why(why, whylen, "cannot decode the instruction at +0x%x", pos);
		kind = classify(&in, pos, why, whylen);
		if (kind < 0)
			return -1;
		if (kind == K_CALL && pos + in.len < skip + need)
			plan->inner_call = true;
		plan->terminal = never_falls_through(&in);
		pos += in.len;
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
	struct lm_insn in;

	if (outlen < sizeof(endbr64) + LM_JMP_ABS_LEN)
		return lm_why(why, whylen, "no room for the trampoline");
	memcpy(out, endbr64, sizeof(endbr64));
	o = sizeof(endbr64);
	while (pos < end) {
		uintptr_t here = dst + o, src = addr + pos, target;
		int kind;

		if (!lm_insn_decode(code + pos, end - pos, &in))
			return lm_why(why, whylen, "cannot decode the instruction at +0x%x", pos);
		kind = classify(&in, pos, why, whylen);
		if (kind < 0)
			return -1;
		if (o + in.len + 16 > outlen)
			return lm_why(why, whylen, "the trampoline is too long");
		target = src + in.len + (uintptr_t)in.rel;
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
			unsigned cc = in.cc;

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
			uintptr_t mem = src + in.len +
			                (uintptr_t)(int64_t)read_disp32(code + pos + in.disp_off);
			int32_t d;

			if (!lm_rel32_reaches(here + in.len, mem))
				return lm_why(
				    why, whylen,
				    "the RIP-relative operand at +0x%x cannot reach 0x%lx "
				    "from the trampoline",
				    pos, (unsigned long)mem);
			d = (int32_t)(mem - (here + in.len));
			memcpy(out + o, code + pos, in.len);
			memcpy(out + o + in.disp_off, &d, 4);
			o += in.len;
			break;
		}
		default:
			memcpy(out + o, code + pos, in.len);
			o += in.len;
		}
		pos += in.len;
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
