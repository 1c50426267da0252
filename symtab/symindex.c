/* An image's symbol index, built in time linear in its tables: two
 * open-addressing hash tables over the definitions, one on the name up to
 * its first '.' (a name and its clones), one on the address. Sorting every
 * name of a large program cost tens of milliseconds at each start-up; the
 * orders only `ldmemo symbols` needs (by name, bounds by address) are
 * built when it asks. */
#include <stdlib.h>
#include <string.h>

#include "image.h"

uint32_t lm_base_hash(const char *name)
{
	uint32_t h = 2166136261u;

	for (; *name && *name != '.'; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

static size_t value_slot(uint64_t v)
{
	v ^= v >> 33;
	v *= UINT64_C(0xff51afd7ed558ccd);
	v ^= v >> 33;
	return (size_t)v;
}

long lm_index_next_name(const struct lm_image *img, uint32_t h, size_t *slot)
{
	if (!img->byname)
		return -1;
	for (size_t i = *slot ? *slot : (h & img->hmask) + 1;; i++) {
		uint32_t e = img->byname[(i - 1) & img->hmask];

		if (!e) {
			*slot = i;
			return -1;
		}
		if (img->syms[e - 1].bhash == h) {
			*slot = i + 1;
			return (long)(e - 1);
		}
	}
}

long lm_index_next_value(const struct lm_image *img, uint64_t value, size_t *slot)
{
	if (!img->byvalue)
		return -1;
	for (size_t i = *slot ? *slot : (value_slot(value) & img->hmask) + 1;; i++) {
		uint32_t e = img->byvalue[(i - 1) & img->hmask];

		if (!e) {
			*slot = i;
			return -1;
		}
		if (img->syms[e - 1].value == value) {
			*slot = i + 1;
			return (long)(e - 1);
		}
	}
}

/* A .symtab entry that repeats a .dynsym one (same name and address) is the
 * same symbol: the .dynsym entry, which carries the version, stays. Exact
 * repeats go too. F is not in the index yet. */
static bool is_duplicate(const struct lm_image *img, const struct lm_fsym *f)
{
	const char *name = img->strs + f->name, *version = img->strs + f->version;
	size_t slot = 0;
	long i;

	while ((i = lm_index_next_name(img, f->bhash, &slot)) >= 0) {
		const struct lm_fsym *g = &img->syms[i];

		if (g->value != f->value || strcmp(img->strs + g->name, name) != 0)
			continue;
		if (f->from_symtab && !g->from_symtab && f->bind != LM_BIND_LOCAL)
			return true;
		if (g->from_symtab == f->from_symtab && g->hidden == f->hidden &&
		    strcmp(img->strs + g->version, version) == 0)
			return true;
	}
	return false;
}

static void insert(uint32_t *table, size_t mask, size_t start, uint32_t idx)
{
	size_t i = start & mask;

	while (table[i])
		i = (i + 1) & mask;
	table[i] = idx + 1;
}

int lm_index_build(struct lm_image *img)
{
	size_t cap = 16, out = 0;

	while (cap < img->nsyms * 2)
		cap *= 2;
	img->hmask = cap - 1;
	img->byname = calloc(cap, sizeof(*img->byname));
	img->byvalue = calloc(cap, sizeof(*img->byvalue));
	if (!img->byname || !img->byvalue)
		return -1;
	/* .dynsym entries come first: a .symtab copy meets its original. */
	for (size_t i = 0; i < img->nsyms; i++) {
		struct lm_fsym f = img->syms[i];

		f.bhash = lm_base_hash(img->strs + f.name);
		if (is_duplicate(img, &f))
			continue;
		img->syms[out] = f;
		insert(img->byname, img->hmask, f.bhash, (uint32_t)out);
		insert(img->byvalue, img->hmask, value_slot(f.value), (uint32_t)out);
		out++;
	}
	img->nsyms = out;
	return 0;
}

int lm_fsym_cmp(const struct lm_image *img, const struct lm_fsym *a, const struct lm_fsym *b)
{
	int c = strcmp(img->strs + a->name, img->strs + b->name);

	if (c)
		return c;
	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	if (a->from_symtab != b->from_symtab)
		return a->from_symtab ? 1 : -1;
	if (a->hidden != b->hidden)
		return a->hidden ? 1 : -1;
	return strcmp(img->strs + a->version, img->strs + b->version);
}

uint64_t lm_image_next_addr(const struct lm_image *img, const struct lm_fsym *f)
{
	uint64_t next = 0;
	bool found = false;

	if (img->bounds_sorted) {
		/* First bound after (shndx, value). */
		size_t lo = 0, hi = img->nbounds;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const struct lm_bound *m = &img->bounds[mid];

			if (m->shndx < f->shndx || (m->shndx == f->shndx && m->value <= f->value))
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < img->nbounds && img->bounds[lo].shndx == f->shndx) {
			next = img->bounds[lo].value;
			found = true;
		}
	} else {
		/* One lookup: a scan beats sorting them all. */
		for (size_t i = 0; i < img->nbounds; i++) {
			const struct lm_bound *b = &img->bounds[i];

			if (b->shndx == f->shndx && b->value > f->value &&
			    (!found || b->value < next)) {
				next = b->value;
				found = true;
			}
		}
	}
	if (!found) {
		if (f->shndx < img->shnum && img->sec_end[f->shndx] > f->value)
			next = img->sec_end[f->shndx];
		else
			next = f->value + f->size;
	}
	/* Without .symtab the static functions between two exported ones are
	 * invisible: trust only the alignment padding after this one. */
	if (!img->has_symtab && f->size) {
		uint64_t pad = (f->value + f->size + 15) & ~(uint64_t)15;

		if (pad < next)
			next = pad;
	}
	return next;
}

static int cmp_index(const void *pa, const void *pb, void *arg)
{
	const struct lm_image *img = arg;

	return lm_fsym_cmp(img, &img->syms[*(const uint32_t *)pa],
	                   &img->syms[*(const uint32_t *)pb]);
}

static int cmp_bound(const void *pa, const void *pb)
{
	const struct lm_bound *a = pa, *b = pb;

	if (a->shndx != b->shndx)
		return a->shndx < b->shndx ? -1 : 1;
	if (a->value != b->value)
		return a->value < b->value ? -1 : 1;
	return 0;
}

int lm_image_sort(struct lm_image *img)
{
	if (img->sorted)
		return 0;
	img->sorted = malloc((img->nsyms ? img->nsyms : 1) * sizeof(*img->sorted));
	if (!img->sorted)
		return -1;
	for (size_t i = 0; i < img->nsyms; i++)
		img->sorted[i] = (uint32_t)i;
	if (img->nsyms)
		qsort_r(img->sorted, img->nsyms, sizeof(*img->sorted), cmp_index, img);
	if (img->nbounds)
		qsort(img->bounds, img->nbounds, sizeof(*img->bounds), cmp_bound);
	img->bounds_sorted = true;
	return 0;
}

static int cmp_str(const void *pa, const void *pb, void *arg)
{
	const char *strs = arg;

	return strcmp(strs + *(const uint32_t *)pa, strs + *(const uint32_t *)pb);
}

bool lm_image_imports(const struct lm_image *cimg, const char *name)
{
	/* Sorted on the first question: most objects are never asked. */
	struct lm_image *img = (struct lm_image *)cimg;
	size_t lo = 0, hi;

	if (!img->imports_sorted) {
		size_t out = 0;

		if (img->nimports)
			qsort_r(img->imports, img->nimports, sizeof(*img->imports), cmp_str,
			        img->strs);
		for (size_t i = 0; i < img->nimports; i++)
			if (out == 0 || strcmp(img->strs + img->imports[i],
			                       img->strs + img->imports[out - 1]) != 0)
				img->imports[out++] = img->imports[i];
		img->nimports = out;
		img->imports_sorted = true;
	}
	hi = img->nimports;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(img->strs + img->imports[mid], name);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}
