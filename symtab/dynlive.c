/* Exported names of a loaded object, found as the dynamic linker finds
 * them: through the object's .gnu.hash (or DT_HASH) in memory, where the
 * dynamic linker mapped it. No file is read and nothing is indexed: a
 * lookup costs one hash and a short chain, whatever the object's size. */
#include <string.h>

#include "dynamic.h"
#include "live.h"

struct extent {
	uintptr_t lo, hi;
};

/* The one place that turns the loader's addresses into pointers. */
static const void *as_ptr(uintptr_t p)
{
	return (const void *)p; /* NOLINT(performance-no-int-to-ptr) */
}

/* glibc stores the dynamic section's pointers relocated, except where the
 * section is read-only (the vDSO): accept both, and nothing outside the
 * object's own mapping. */
static const void *dyn_ptr(const struct extent *e, uintptr_t bias, uintptr_t p)
{
	if (p >= e->lo && p < e->hi)
		return as_ptr(p);
	if (p + bias >= e->lo && p + bias < e->hi)
		return as_ptr(p + bias);
	return NULL;
}

/* The entries lm_live_init reads, in the order of dyn_tags. */
enum {
	D_STRTAB,
	D_STRSZ,
	D_SYMTAB,
	D_GNU_HASH,
	D_HASH,
	D_VERSYM,
	D_VERDEF,
	D_VERDEFNUM,
	D_SONAME,
	D_N
};
static const Elf64_Sxword dyn_tags[D_N] = {
    [D_STRTAB] = DT_STRTAB,     [D_STRSZ] = DT_STRSZ,         [D_SYMTAB] = DT_SYMTAB,
    [D_GNU_HASH] = DT_GNU_HASH, [D_HASH] = DT_HASH,           [D_VERSYM] = DT_VERSYM,
    [D_VERDEF] = DT_VERDEF,     [D_VERDEFNUM] = DT_VERDEFNUM, [D_SONAME] = DT_SONAME};

/* An optional table: NULL when the section names none. */
static const void *dyn_table(const struct extent *e, uintptr_t bias, uintptr_t p)
{
	return p ? dyn_ptr(e, bias, p) : NULL;
}

int lm_live_init(struct lm_live *l, uintptr_t bias, const ElfW(Phdr) * phdr, size_t phnum)
{
	struct extent e = {UINTPTR_MAX, 0};
	const ElfW(Dyn) *dyn = NULL;
	Elf64_Xword v[D_N];

	memset(l, 0, sizeof(*l));
	l->bias = bias;
	for (size_t i = 0; i < phnum; i++) {
		if (phdr[i].p_type == PT_LOAD) {
			uintptr_t lo = bias + phdr[i].p_vaddr, hi = lo + phdr[i].p_memsz;

			e.lo = lo < e.lo ? lo : e.lo;
			e.hi = hi > e.hi ? hi : e.hi;
		} else if (phdr[i].p_type == PT_DYNAMIC) {
			dyn = as_ptr(bias + phdr[i].p_vaddr);
		}
	}
	if (!dyn)
		return -1;
	l->lo = e.lo;
	l->hi = e.hi;
	unsigned found = lm_dyn_read(dyn, dyn_tags, v, D_N);
	l->strsz = v[D_STRSZ];
	l->verdefnum = v[D_VERDEFNUM];
	l->str = dyn_ptr(&e, bias, v[D_STRTAB]);
	l->sym = dyn_ptr(&e, bias, v[D_SYMTAB]);
	if (!l->str || !l->sym || l->strsz == 0)
		return -1;
	l->gnu = dyn_table(&e, bias, v[D_GNU_HASH]);
	l->sysv = dyn_table(&e, bias, v[D_HASH]);
	l->versym = dyn_table(&e, bias, v[D_VERSYM]);
	l->verdef = dyn_table(&e, bias, v[D_VERDEF]);
	if ((found & (1u << D_SONAME)) && v[D_SONAME] < l->strsz)
		l->soname = l->str + v[D_SONAME];
	return 0;
}

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static uint32_t sysv_hash(const char *s)
{
	uint32_t h = 0, g;

	for (; *s; s++) {
		h = (h << 4) + (unsigned char)*s;
		g = h & 0xf0000000u;
		if (g)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

/* A function other objects can bind to, named NAME. */
static bool defines(const struct lm_live *l, uint32_t i, const char *name)
{
	const Elf64_Sym *s = &l->sym[i];
	int type = ELF64_ST_TYPE(s->st_info);

	return s->st_shndx != SHN_UNDEF && s->st_shndx < SHN_LORESERVE && s->st_name < l->strsz &&
	       (type == STT_FUNC || type == STT_GNU_IFUNC) &&
	       strcmp(l->str + s->st_name, name) == 0;
}

static size_t lookup_gnu(const struct lm_live *l, const char *name, uint32_t *idx, size_t max)
{
	const uint32_t *h = l->gnu;
	uint32_t nbuckets = h[0], symoff = h[1], nbloom = h[2], shift = h[3];
	const uint64_t *bloom = (const uint64_t *)(h + 4);
	const uint32_t *buckets = (const uint32_t *)(bloom + nbloom), *chain = buckets + nbuckets;
	uint32_t hash = gnu_hash(name), i;
	uint64_t word, mask;
	size_t n = 0;

	if (nbuckets == 0 || nbloom == 0)
		return 0;
	word = bloom[(hash / 64) % nbloom];
	mask = (UINT64_C(1) << (hash % 64)) | (UINT64_C(1) << ((hash >> shift) % 64));
	if ((word & mask) != mask)
		return 0;
	i = buckets[hash % nbuckets];
	if (i < symoff)
		return 0;
	for (;; i++) {
		uint32_t c = chain[i - symoff];

		if ((c | 1) == (hash | 1) && defines(l, i, name) && n < max)
			idx[n++] = i;
		if (c & 1)
			break;
	}
	return n;
}

static size_t lookup_sysv(const struct lm_live *l, const char *name, uint32_t *idx, size_t max)
{
	uint32_t nbucket = l->sysv[0], nchain = l->sysv[1];
	const uint32_t *bucket = l->sysv + 2, *chain = bucket + nbucket;
	size_t n = 0, steps = 0;

	if (nbucket == 0)
		return 0;
	/* A chain longer than the table is a loop. */
	for (uint32_t i = bucket[sysv_hash(name) % nbucket];
	     i != STN_UNDEF && i < nchain && steps <= nchain; i = chain[i], steps++)
		if (defines(l, i, name) && n < max)
			idx[n++] = i;
	return n;
}

size_t lm_live_lookup(const struct lm_live *l, const char *name, uint32_t *idx, size_t max)
{
	if (l->gnu)
		return lookup_gnu(l, name, idx, max);
	if (l->sysv)
		return lookup_sysv(l, name, idx, max);
	return 0;
}

const char *lm_live_version(const struct lm_live *l, uint32_t i, bool *hidden)
{
	const Elf64_Verdef *vd = l->verdef;
	uint16_t v, ndx;

	*hidden = false;
	if (!l->versym)
		return NULL;
	v = l->versym[i];
	*hidden = (v & 0x8000) != 0;
	ndx = v & 0x7fff;
	if (ndx <= 1 || !vd)
		return NULL;
	for (size_t k = 0; k < l->verdefnum; k++) {
		if (vd->vd_ndx == ndx && !(vd->vd_flags & VER_FLG_BASE) && vd->vd_cnt > 0) {
			const Elf64_Verdaux *va =
			    (const Elf64_Verdaux *)((const char *)vd + vd->vd_aux);

			return va->vda_name < l->strsz ? l->str + va->vda_name : NULL;
		}
		if (!vd->vd_next)
			break;
		vd = (const Elf64_Verdef *)((const char *)vd + vd->vd_next);
	}
	return NULL;
}

size_t lm_live_count(struct lm_live *l)
{
	if (l->nsyms || (!l->gnu && !l->sysv))
		return l->nsyms;
	if (l->gnu) {
		const uint32_t *h = l->gnu;
		uint32_t nbuckets = h[0], symoff = h[1];
		const uint32_t *buckets = h + 4 + (size_t)h[2] * 2, *chain = buckets + nbuckets;
		uint32_t last = 0;

		/* The highest chain start, then to the end of its chain. */
		for (uint32_t b = 0; b < nbuckets; b++)
			if (buckets[b] > last)
				last = buckets[b];
		if (last < symoff) {
			l->nsyms = symoff;
		} else {
			while (!(chain[last - symoff] & 1))
				last++;
			l->nsyms = (size_t)last + 1;
		}
	} else {
		l->nsyms = l->sysv[1];
	}
	return l->nsyms;
}
