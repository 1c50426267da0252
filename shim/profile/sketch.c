/* HyperLogLog estimate (Flajolet et al. 2007) with the small-range
 * correction by linear counting. No libm: the shim does not load it for
 * a program that does not. */
#include "sketch.h"

#include <string.h>

void lm_sketch_merge(struct lm_sketch *dst, const struct lm_sketch *src)
{
	for (uint32_t i = 0; i < LM_SKETCH_REGS; i++)
		if (src->reg[i] > dst->reg[i])
			dst->reg[i] = src->reg[i];
}

/* ln X for X >= 1: X = m 2^e with m in [1, 2), ln m by the atanh series. */
static double ln(double x)
{
	uint64_t bits;
	memcpy(&bits, &x, 8);
	int e = (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & ~(0x7ffull << 52)) | (1023ull << 52);
	double m, y, y2, term, sum = 0;
	memcpy(&m, &bits, 8);
	y = (m - 1) / (m + 1); /* below 1/3: the series converges fast */
	y2 = y * y;
	term = y;
	for (int k = 1; k < 40; k += 2) {
		sum += term / k;
		term *= y2;
	}
	return 2 * sum + e * 0.69314718055994530942;
}

double lm_sketch_estimate(const struct lm_sketch *s)
{
	const double m = LM_SKETCH_REGS;
	const double alpha = 0.7213 / (1.0 + 1.079 / m);
	double sum = 0;
	uint32_t zeros = 0;

	for (uint32_t i = 0; i < LM_SKETCH_REGS; i++) {
		sum += 1.0 / (double)(1ull << s->reg[i]);
		zeros += s->reg[i] == 0;
	}
	double est = alpha * m * m / sum;
	if (est <= 2.5 * m && zeros)
		est = m * ln(m / zeros);
	return est;
}
