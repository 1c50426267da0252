/* Detour analysis and prologue relocation (Zydis): which bytes at a
 * function's entry can be replaced by a jump, and how to re-emit them
 * elsewhere so they behave the same. Pure: no allocation, no system call. */
#ifndef LM_RELOC_H
#define LM_RELOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LM_JMP_REL32_LEN 5
#define LM_JMP_ABS_LEN   14

/* Room a trampoline may need: endbr64, the widest expansion of every
 * relocated instruction (at most 14 of them) and the jump back. */
#define LM_TRAMPOLINE_MAX 256

struct lm_reloc_plan {
	unsigned skip;   /* bytes of a leading endbr64, left in place */
	unsigned window; /* bytes after SKIP moved to the trampoline */
	unsigned patch;  /* bytes after SKIP the jump may overwrite (>= need) */
	bool terminal;   /* the last moved instruction never falls through */
	bool inner_call; /* a moved call returns into the patched bytes */
};

/* Decide what to move so that NEED (5 or 14) bytes after a leading endbr64
 * can be overwritten. CODE holds LEN bytes of the function at runtime
 * address ADDR; SIZE is its symbol size (0: refuse), LIMIT the first address
 * the patch may not touch (0: the function's end). */
int lm_reloc_plan(const unsigned char *code, size_t len, uintptr_t addr, uint64_t size,
                  uintptr_t limit, unsigned need, struct lm_reloc_plan *plan, char *why,
                  size_t whylen);

/* Write the trampoline for PLAN (endbr64, the moved instructions, a jump
 * back to the rest of the function) into OUT, which will run at DST.
 * Returns its length, or -1 with WHY when an operand cannot reach. */
int lm_reloc_emit(const unsigned char *code, uintptr_t addr, const struct lm_reloc_plan *plan,
                  unsigned char *out, size_t outlen, uintptr_t dst, char *why, size_t whylen);

/* Encode a jump at FROM to TO: rel32 when it reaches and ABS is false,
 * else `jmp *0(%rip)` + address. Returns its length. */
unsigned lm_encode_jmp(unsigned char *out, uintptr_t from, uintptr_t to, bool abs);

/* Does a rel32 displacement from the end of an instruction at END reach TO? */
bool lm_rel32_reaches(uintptr_t end, uintptr_t to);

/* Can the function at runtime address ADDR be detoured? CODE holds its
 * bytes (LEN of them, at least SIZE when SIZE is known), read from memory
 * or, for `ldmemo check`, from the file. LIMIT is the first address the
 * patch may not touch. 0, or -1 with the reason in WHY. Pure: no system
 * call, no allocation, no write. */
int lm_detour_check(const unsigned char *code, size_t len, uintptr_t addr, uint64_t size,
                    uintptr_t limit, char *why, size_t whylen);

#endif
