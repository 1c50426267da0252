/* One x86-64 instruction, as the detour's analysis needs it: its length,
 * whether it branches (and where), whether it reads memory relative to
 * RIP. Decoded by a small table-driven length decoder for the common
 * instructions, else by Zydis (loaded on first need: its load and
 * relocation cost a process ~20 page faults and most of a millisecond at
 * start, issue 19). Pure: no allocation, no system call. */
#ifndef LM_INSN_H
#define LM_INSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lm_insn_kind {
	LM_INSN_OTHER,
	LM_INSN_JMP,  /* jmp rel8/rel32 or indirect, near or far */
	LM_INSN_CALL, /* call rel32 or indirect */
	LM_INSN_JCC,  /* jcc rel8/rel32 */
	LM_INSN_RET,
	LM_INSN_NOP,
	LM_INSN_SHORT_ONLY, /* loop*, jrcxz: rel8 with no 32-bit form */
};

struct lm_insn {
	unsigned len;
	enum lm_insn_kind kind;
	bool relative;                /* a relative immediate (the branch target) */
	int64_t rel;                  /* its value, from the instruction's end */
	unsigned cc;                  /* a jcc's condition, 0..15 */
	bool rip;                     /* a memory operand relative to RIP */
	bool addr32;                  /* a 32-bit address size (0x67) */
	unsigned disp_off, disp_bits; /* the displacement's place and size */
	const char *name;             /* for messages: the mnemonic, when known */
};

/* The small decoder alone: false when it does not know the instruction
 * (Zydis then decides). Exposed for the agreement test. */
bool lm_insn_decode_quick(const unsigned char *p, size_t avail, struct lm_insn *in);

/* Zydis alone (loaded on first use), its answer in the same terms. */
bool lm_insn_decode_zydis(const unsigned char *p, size_t avail, struct lm_insn *in);

/* The instruction at P (AVAIL bytes readable): the small decoder, else
 * Zydis. False when neither decodes it. */
bool lm_insn_decode(const unsigned char *p, size_t avail, struct lm_insn *in);

#endif
