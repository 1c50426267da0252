/* Did-you-mean for a function name that no object defines: the closest
 * function symbol of the set by edit distance. Only asked on the error
 * path (a method not found), so a full pass over every symbol is fine. */
#include <stdlib.h>
#include <string.h>

#include "symtab.h"

/* Names longer than this are not compared: a typo in them is rare, and
 * the distance table stays on the stack. */
#define LM_NEAR_MAX 128

struct near {
	const char *name;
	size_t len;
	size_t bound; /* a candidate must be within this distance */
	size_t best;  /* distance of BEST; bound + 1 while none */
	char *out;
	size_t outlen;
};

/* Optimal string alignment distance (edits, adjacent swaps count one),
 * or LIMIT + 1 as soon as every way is already past LIMIT. */
static size_t distance(const char *a, size_t la, const char *b, size_t lb, size_t limit)
{
	size_t prev2[LM_NEAR_MAX + 1], prev[LM_NEAR_MAX + 1], cur[LM_NEAR_MAX + 1];

	if ((la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t row_min;

		cur[0] = row_min = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t d = prev[j - 1] + cost;

			if (prev[j] + 1 < d)
				d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
			if (d < row_min)
				row_min = d;
		}
		if (row_min > limit)
			return limit + 1;
		memcpy(prev2, prev, (lb + 1) * sizeof(prev[0]));
		memcpy(prev, cur, (lb + 1) * sizeof(cur[0]));
	}
	return prev[lb];
}

static int consider(const struct lm_symbol *s, void *arg)
{
	struct near *n = arg;
	size_t len = strlen(s->name), d;

	if (len > LM_NEAR_MAX || strcmp(s->name, n->name) == 0)
		return 0;
	d = distance(n->name, n->len, s->name, len, n->best - 1);
	if (d < n->best) {
		n->best = d;
		strncpy(n->out, s->name, n->outlen - 1);
		n->out[n->outlen - 1] = '\0';
	}
	return 0;
}

bool lm_symtab_nearest(const struct lm_objset *set, const char *name, char *out, size_t outlen)
{
	struct near n = {.name = name, .len = strlen(name), .out = out, .outlen = outlen};

	if (n.len == 0 || n.len > LM_NEAR_MAX || outlen == 0)
		return false;
	/* A third of the name, 1 to 3 edits: 'strln' finds 'strlen', a short
	 * name does not match every other short name. */
	n.bound = n.len / 3;
	if (n.bound < 1)
		n.bound = 1;
	if (n.bound > 3)
		n.bound = 3;
	n.best = n.bound + 1;
	for (size_t i = 0; set && i < set->n; i++)
		if (lm_symtab_each(&set->v[i], consider, &n) < 0)
			break;
	return n.best <= n.bound;
}
