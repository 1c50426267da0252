/* lm_insn_decode: the small decoder first, Zydis for the rest. */
#include "insn.h"

#include <string.h>

#include <Zydis/Zydis.h>

static bool has_rip_operand(const ZydisDecodedInstruction *d, const ZydisDecodedOperand *ops)
{
	for (unsigned i = 0; i < d->operand_count; i++)
		if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    ops[i].mem.base == ZYDIS_REGISTER_RIP)
			return true;
	return false;
}

static enum lm_insn_kind kind_of(const ZydisDecodedInstruction *d)
{
	switch (d->mnemonic) {
	case ZYDIS_MNEMONIC_JMP:
		return LM_INSN_JMP;
	case ZYDIS_MNEMONIC_CALL:
		return LM_INSN_CALL;
	case ZYDIS_MNEMONIC_RET:
		return LM_INSN_RET;
	case ZYDIS_MNEMONIC_NOP:
		return LM_INSN_NOP;
	case ZYDIS_MNEMONIC_JRCXZ:
	case ZYDIS_MNEMONIC_JECXZ:
	case ZYDIS_MNEMONIC_JCXZ:
	case ZYDIS_MNEMONIC_LOOP:
	case ZYDIS_MNEMONIC_LOOPE:
	case ZYDIS_MNEMONIC_LOOPNE:
		return LM_INSN_SHORT_ONLY;
	default:
		return d->meta.category == ZYDIS_CATEGORY_COND_BR ? LM_INSN_JCC : LM_INSN_OTHER;
	}
}

bool lm_insn_decode_zydis(const unsigned char *p, size_t avail, struct lm_insn *in)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction d;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];

	if (!ZYAN_SUCCESS(
	        ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, p, avail, &d, ops)))
		return false;
	memset(in, 0, sizeof(*in));
	in->len = d.length;
	in->kind = kind_of(&d);
	in->relative = d.raw.imm[0].is_relative;
	in->rel = d.raw.imm[0].value.s;
	in->cc = d.opcode & 15;
	in->rip = has_rip_operand(&d, ops);
	in->addr32 = d.address_width != 64;
	in->disp_off = d.raw.disp.offset;
	in->disp_bits = d.raw.disp.size;
	in->name = ZydisMnemonicGetString(d.mnemonic);
	return true;
}

bool lm_insn_decode(const unsigned char *p, size_t avail, struct lm_insn *in)
{
	return lm_insn_decode_quick(p, avail, in) || lm_insn_decode_zydis(p, avail, in);
}
