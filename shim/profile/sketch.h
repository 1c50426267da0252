/* A HyperLogLog sketch of the distinct keys a function was called with:
 * 2^LM_SKETCH_BITS one-byte registers, the register a hash's top bits
 * pick keeping the longest run of leading zeros seen in the rest. About
 * 3% standard error; linear counting below 2.5 registers' worth. */
#ifndef LM_SKETCH_H
#define LM_SKETCH_H

#include <stdint.h>

#define LM_SKETCH_BITS 10
#define LM_SKETCH_REGS (1u << LM_SKETCH_BITS)

struct lm_sketch {
	uint8_t reg[LM_SKETCH_REGS];
};

/* HASH must be a well-mixed 64-bit hash of the key. */
static inline void lm_sketch_add(struct lm_sketch *s, uint64_t hash)
{
	uint32_t idx = (uint32_t)(hash >> (64 - LM_SKETCH_BITS));
	uint64_t rest = hash << LM_SKETCH_BITS;
	/* rank: leading zeros of the remaining bits, plus one */
	uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(65 - LM_SKETCH_BITS);

	if (rank > s->reg[idx])
		s->reg[idx] = rank;
}

/* Into DST the union of DST and SRC. */
void lm_sketch_merge(struct lm_sketch *dst, const struct lm_sketch *src);
/* The estimated number of distinct hashes added. */
double lm_sketch_estimate(const struct lm_sketch *s);

#endif
