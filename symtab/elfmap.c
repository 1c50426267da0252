/* An object's file through mmap: its section headers and symbol tables,
 * checked against the file's size once, then read in place. The shim's
 * .symtab pass reads each entry once and compares it with the few wanted
 * names: no copy of the string table, no index of the symbols. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "live.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Section I's bytes lie inside the file. */
static bool inside(const struct lm_elfmap *m, const Elf64_Shdr *s)
{
	return s->sh_offset <= m->len && s->sh_size <= m->len - s->sh_offset;
}

/* A symbol table and its string table, or -1 when either lies outside the
 * file or the strings do not end with a NUL. */
static int table(const struct lm_elfmap *m, const Elf64_Shdr *s, const Elf64_Sym **syms, size_t *n,
                 const char **str, size_t *strsz)
{
	const Elf64_Shdr *st;

	if (!inside(m, s) || s->sh_offset % 8 || s->sh_link == 0 || s->sh_link >= m->shnum)
		return -1;
	st = &m->sh[s->sh_link];
	if (st->sh_type != SHT_STRTAB || !inside(m, st) || st->sh_size == 0 ||
	    m->base[st->sh_offset + st->sh_size - 1] != '\0')
		return -1;
	*syms = (const Elf64_Sym *)(m->base + s->sh_offset);
	*n = s->sh_size / sizeof(Elf64_Sym);
	*str = (const char *)m->base + st->sh_offset;
	*strsz = st->sh_size;
	return 0;
}

static int check(struct lm_elfmap *m, const char *path, char *err, size_t errlen)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)m->base;

	if (m->len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return fail(err, errlen, "%s: not an ELF file", path);
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64)
		return fail(err, errlen, "%s: not an x86-64 ELF file", path);
	if (eh->e_shoff == 0)
		return 0; /* no section headers: nothing beyond .dynsym */
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff % 8 || eh->e_shoff > m->len ||
	    m->len - eh->e_shoff < sizeof(Elf64_Shdr))
		return fail(err, errlen,
		            "%s: damaged ELF: the section headers lie outside the file "
		            "(truncated?)",
		            path);
	m->sh = (const Elf64_Shdr *)(m->base + eh->e_shoff);
	m->shnum = eh->e_shnum ? eh->e_shnum : m->sh[0].sh_size;
	if (m->shnum > (m->len - eh->e_shoff) / sizeof(Elf64_Shdr))
		return fail(err, errlen,
		            "%s: damaged ELF: %zu section headers do not fit in the file "
		            "(truncated?)",
		            path, m->shnum);
	for (size_t i = 1; i < m->shnum; i++) {
		const Elf64_Shdr *s = &m->sh[i];
		int rc = 0;

		if (s->sh_type == SHT_SYMTAB && !m->symtab)
			rc = table(m, s, &m->symtab, &m->nsymtab, &m->symstr, &m->symstrsz);
		else if (s->sh_type == SHT_DYNSYM && !m->dynsym)
			rc = table(m, s, &m->dynsym, &m->ndynsym, &m->dynstr, &m->dynstrsz);
		if (rc != 0)
			return fail(err, errlen, "%s: damaged ELF: unreadable %s", path,
			            s->sh_type == SHT_SYMTAB ? ".symtab" : ".dynsym");
	}
	return 0;
}

int lm_elfmap_open(const char *path, struct lm_elfmap *m, char *err, size_t errlen)
{
	struct stat st;
	void *p;
	int fd, saved = errno;

	memset(m, 0, sizeof(*m));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail(err, errlen, "%s: %s", path, strerror(errno));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
		close(fd);
		errno = saved;
		return fail(err, errlen, "%s: not a regular file", path);
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fail(err, errlen, "%s: cannot map: %s", path, strerror(errno));
		errno = saved;
		return -1;
	}
	m->base = p;
	m->len = (size_t)st.st_size;
	errno = saved;
	if (check(m, path, err, errlen) != 0) {
		lm_elfmap_close(m);
		return -1;
	}
	return 0;
}

int lm_elfmap_probe_symtab(const char *path, uint16_t shndx, uint64_t *end)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh[32];
	int saved = errno, rc = -1;
	bool found = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		goto out;
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64)
		goto out;
	if (eh.e_shoff == 0) {
		rc = 0;
		goto out;
	}
	/* a count in sh[0] (0) or odd headers: lm_elfmap_open says what */
	if (eh.e_shnum == 0 || eh.e_shentsize != sizeof(Elf64_Shdr))
		goto out;
	for (size_t i = 0; i < eh.e_shnum; i += 32) {
		size_t n = eh.e_shnum - i < 32 ? eh.e_shnum - i : 32;

		if (pread(fd, sh, n * sizeof(*sh), (off_t)(eh.e_shoff + i * sizeof(*sh))) !=
		    (ssize_t)(n * sizeof(*sh)))
			goto out;
		for (size_t k = 0; k < n; k++) {
			if (end && i + k == shndx && shndx != SHN_UNDEF)
				*end = sh[k].sh_addr + sh[k].sh_size;
			if (sh[k].sh_type == SHT_SYMTAB)
				found = true;
		}
	}
	rc = found;
out:
	if (fd >= 0)
		close(fd);
	errno = saved;
	return rc;
}

void lm_elfmap_close(struct lm_elfmap *m)
{
	if (m->base)
		munmap((void *)m->base, m->len);
	memset(m, 0, sizeof(*m));
}

static bool is_bound(const Elf64_Sym *s, uint16_t shndx)
{
	int type = ELF64_ST_TYPE(s->st_info);

	return s->st_shndx == shndx &&
	       (type == STT_FUNC || type == STT_GNU_IFUNC || type == STT_OBJECT);
}

uint64_t lm_syms_next_addr(const Elf64_Sym *v, size_t n, uint16_t shndx, uint64_t value,
                           uint64_t next)
{
	/* One question: a scan beats sorting every address. The address
	 * test first, as one unsigned comparison (value < a < next): it
	 * rejects nearly every symbol of a large table. */
	if (next <= value)
		return next;
	for (size_t i = 1; i < n; i++)
		if (v[i].st_value - value - 1 < next - value - 1 && is_bound(&v[i], shndx))
			next = v[i].st_value;
	return next;
}

uint64_t lm_elfmap_next_addr(const struct lm_elfmap *m, uint16_t shndx, uint64_t value)
{
	const Elf64_Shdr *s;
	uint64_t next;

	if (shndx == SHN_UNDEF || shndx >= m->shnum || shndx >= SHN_LORESERVE)
		return 0;
	s = &m->sh[shndx];
	next = lm_syms_next_addr(m->symtab, m->nsymtab, shndx, value, s->sh_addr + s->sh_size);
	return lm_syms_next_addr(m->dynsym, m->ndynsym, shndx, value, next);
}

/* ---- The wanted names ------------------------------------------------------ */

static uint32_t base_hash(const char *s, size_t *len)
{
	uint32_t h = 2166136261u;
	size_t n = 0;

	for (; s[n] && s[n] != '.' && s[n] != '@'; n++)
		h = (h ^ (unsigned char)s[n]) * 16777619u;
	*len = n;
	return h;
}

static unsigned first2(const char *s)
{
	return (unsigned)(unsigned char)s[0] << 8 | (s[0] ? (unsigned char)s[1] : 0);
}

void lm_wantset_init(struct lm_wantset *w)
{
	memset(w, 0, sizeof(*w));
}

int lm_wantset_add(struct lm_wantset *w, const char *name)
{
	size_t len, mask = sizeof(w->slot) - 1, i;
	uint32_t h = base_hash(name, &len);

	if (w->n == LM_WANT_MAX)
		return -1;
	w->name[w->n] = name;
	w->len[w->n] = len;
	w->hash[w->n] = h;
	for (i = h & mask; w->slot[i]; i = (i + 1) & mask)
		;
	w->slot[i] = (unsigned char)(w->n + 1);
	w->first2[first2(name) / 64] |= UINT64_C(1) << (first2(name) % 64);
	w->n++;
	return 0;
}

void lm_elfmap_scan(const struct lm_elfmap *m, const struct lm_wantset *w, lm_scan_cb cb, void *arg)
{
	size_t mask = sizeof(w->slot) - 1;

	for (size_t k = 1; k < m->nsymtab; k++) {
		const Elf64_Sym *s = &m->symtab[k];
		int type = ELF64_ST_TYPE(s->st_info);
		const char *name;
		unsigned f;
		size_t len;
		uint32_t h;

		if ((type != STT_FUNC && type != STT_GNU_IFUNC) || s->st_shndx == SHN_UNDEF ||
		    s->st_shndx >= SHN_LORESERVE || s->st_name == 0 || s->st_name >= m->symstrsz)
			continue;
		name = m->symstr + s->st_name;
		f = first2(name);
		if (!(w->first2[f / 64] & (UINT64_C(1) << (f % 64))))
			continue;
		h = base_hash(name, &len);
		for (size_t i = h & mask; w->slot[i]; i = (i + 1) & mask) {
			size_t want = w->slot[i] - 1u;

			if (w->hash[want] == h && w->len[want] == len &&
			    memcmp(w->name[want], name, len) == 0)
				cb(want, s, name, arg);
		}
	}
}
