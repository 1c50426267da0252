/* Reading .dynsym and .symtab (with GNU symbol versions) into an image: the
 * function definitions, where functions and objects start (for padding
 * reach), and the names the object imports; symindex.c indexes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"
#include "libelf_lazy.h"
#include "symtab.h"

#define LM_MAX_VERNDX 0x8000

struct builder {
	struct lm_image *img;
	Elf *elf;
	size_t shnum;
	uint64_t *sec_end; /* sh_addr + sh_size per section index */
	uint32_t *vnames;  /* version index -> name offset (0: none) */
	struct lm_fsym *syms;
	size_t nsyms, capsyms;
	struct lm_bound *bounds;
	size_t nbounds, capbounds;
	uint32_t *imports;
	size_t nimports, capimports;
};

static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 256;
	p = realloc(*v, c * elem);
	if (!p)
		return -1;
	*v = p;
	*cap = c;
	return 0;
}

/* Version names from .gnu.version_d: index -> name. */
static int read_verdef(struct builder *b, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = lm_elf.elf_getdata(scn, NULL);
	size_t off = 0, count;

	if (!d || sh->sh_link >= b->shnum)
		return -1;
	/* sh_info is the entry count; the chain may not be longer. */
	for (count = 0; count < sh->sh_info && count < LM_MAX_VERNDX; count++) {
		GElf_Verdef vd;
		GElf_Verdaux va;
		const char *name;
		uint16_t ndx;

		if (!lm_elf.gelf_getverdef(d, (int)off, &vd))
			return -1;
		ndx = vd.vd_ndx & 0x7fff;
		if (vd.vd_cnt > 0 && !(vd.vd_flags & VER_FLG_BASE) &&
		    off + vd.vd_aux <= INT32_MAX &&
		    lm_elf.gelf_getverdaux(d, (int)(off + vd.vd_aux), &va) &&
		    (name = lm_elf.elf_strptr(b->elf, sh->sh_link, va.vda_name)) != NULL) {
			uint32_t o = lm_image_str(b->img, name, strlen(name));

			if (o == LM_STR_FAIL)
				return -1;
			b->vnames[ndx] = o;
		}
		if (vd.vd_next == 0 || off + vd.vd_next > INT32_MAX)
			break;
		off += vd.vd_next;
	}
	return 0;
}

static int add_import(struct builder *b, const char *name)
{
	uint32_t o;

	if (grow((void **)&b->imports, &b->capimports, b->nimports, sizeof(*b->imports)) != 0)
		return -1;
	o = lm_image_str(b->img, name, strlen(name));
	if (o == LM_STR_FAIL)
		return -1;
	b->imports[b->nimports++] = o;
	return 0;
}

static int add_bound(struct builder *b, uint16_t shndx, uint64_t value)
{
	if (grow((void **)&b->bounds, &b->capbounds, b->nbounds, sizeof(*b->bounds)) != 0)
		return -1;
	b->bounds[b->nbounds].shndx = shndx;
	b->bounds[b->nbounds].value = value;
	b->nbounds++;
	return 0;
}

/* A .symtab name may carry its version: "foo@@V2" (default), "foo@V1". */
static int split_version(struct builder *b, struct lm_fsym *f, const char *name)
{
	const char *at = strchr(name, '@');
	size_t len = at ? (size_t)(at - name) : strlen(name);

	f->name = lm_image_str(b->img, name, len);
	if (f->name == LM_STR_FAIL)
		return -1;
	if (!at)
		return 0;
	f->hidden = at[1] != '@';
	at += f->hidden ? 1 : 2;
	f->version = lm_image_str(b->img, at, strlen(at));
	return f->version == LM_STR_FAIL ? -1 : 0;
}

static int add_def(struct builder *b, const GElf_Sym *s, const char *name, Elf_Data *versym,
                   size_t i, bool from_symtab)
{
	struct lm_fsym *f;

	if (grow((void **)&b->syms, &b->capsyms, b->nsyms, sizeof(*b->syms)) != 0)
		return -1;
	f = &b->syms[b->nsyms];
	memset(f, 0, sizeof(*f));
	f->value = s->st_value;
	f->size = s->st_size;
	f->shndx = s->st_shndx;
	f->type = GELF_ST_TYPE(s->st_info) == STT_GNU_IFUNC ? LM_SYM_IFUNC : LM_SYM_FUNC;
	f->bind = GELF_ST_BIND(s->st_info) == STB_LOCAL  ? LM_BIND_LOCAL
	          : GELF_ST_BIND(s->st_info) == STB_WEAK ? LM_BIND_WEAK
	                                                 : LM_BIND_GLOBAL;
	f->from_symtab = from_symtab;
	if (from_symtab) {
		if (split_version(b, f, name) != 0)
			return -1;
	} else {
		GElf_Versym vs;

		f->name = lm_image_str(b->img, name, strlen(name));
		if (f->name == LM_STR_FAIL)
			return -1;
		if (versym && lm_elf.gelf_getversym(versym, (int)i, &vs)) {
			f->hidden = (vs & 0x8000) != 0;
			f->version = b->vnames[vs & 0x7fff];
		}
	}
	b->nsyms++;
	return 0;
}

static int read_table(struct builder *b, Elf_Scn *scn, const GElf_Shdr *sh, Elf_Data *versym,
                      bool from_symtab, char *err, size_t errlen)
{
	Elf_Data *d = lm_elf.elf_getdata(scn, NULL);
	Elf_Scn *strscn;
	GElf_Shdr strsh;
	size_t i, n;

	if (!d || sh->sh_link == 0 || sh->sh_link >= b->shnum ||
	    !(strscn = lm_elf.elf_getscn(b->elf, sh->sh_link)) ||
	    !lm_elf.gelf_getshdr(strscn, &strsh) || strsh.sh_type != SHT_STRTAB) {
		snprintf(err, errlen, "%s: damaged ELF: unreadable %s", b->img->path,
		         from_symtab ? ".symtab" : ".dynsym");
		return LM_DAMAGED;
	}
	n = d->d_size / sizeof(Elf64_Sym);
	for (i = 1; i < n && i <= INT32_MAX; i++) {
		GElf_Sym s;
		const char *name;
		int type;

		if (!lm_elf.gelf_getsym(d, (int)i, &s))
			break;
		type = GELF_ST_TYPE(s.st_info);
		name = lm_elf.elf_strptr(b->elf, sh->sh_link, s.st_name);
		if (!name) {
			snprintf(err, errlen, "%s: damaged ELF: symbol name out of range",
			         b->img->path);
			return LM_DAMAGED;
		}
		if (s.st_shndx == SHN_UNDEF) {
			/* Imports, and a non-PIE executable's canonical PLT stubs
			 * (undefined with a value): never definitions. */
			if (*name &&
			    (type == STT_FUNC || type == STT_NOTYPE || type == STT_GNU_IFUNC) &&
			    add_import(b, name) != 0)
				goto oom;
			continue;
		}
		if (s.st_shndx >= SHN_LORESERVE)
			continue;
		if ((type == STT_FUNC || type == STT_GNU_IFUNC || type == STT_OBJECT) &&
		    add_bound(b, s.st_shndx, s.st_value) != 0)
			goto oom;
		if ((type == STT_FUNC || type == STT_GNU_IFUNC) && *name &&
		    add_def(b, &s, name, versym, i, from_symtab) != 0)
			goto oom;
	}
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int finish(struct builder *b)
{
	struct lm_image *img = b->img;

	img->syms = b->syms;
	img->nsyms = b->nsyms;
	img->bounds = b->bounds;
	img->nbounds = b->nbounds;
	img->imports = b->imports;
	img->nimports = b->nimports;
	img->sec_end = b->sec_end;
	img->shnum = b->shnum;
	b->syms = NULL;
	b->bounds = NULL;
	b->imports = NULL;
	b->sec_end = NULL;
	return lm_index_build(img);
}

struct tables {
	Elf_Scn *dynsym, *symtab, *versym, *verdef;
	GElf_Shdr dynsym_sh, symtab_sh, versym_sh, verdef_sh;
};

static void find_tables(struct builder *b, struct tables *t)
{
	Elf_Scn *scn = NULL;

	while ((scn = lm_elf.elf_nextscn(b->elf, scn)) != NULL) {
		size_t ndx = lm_elf.elf_ndxscn(scn);
		GElf_Shdr sh;

		if (!lm_elf.gelf_getshdr(scn, &sh) || ndx >= b->shnum)
			continue;
		b->sec_end[ndx] = sh.sh_addr + sh.sh_size;
		if (sh.sh_type == SHT_DYNSYM && !t->dynsym) {
			t->dynsym = scn;
			t->dynsym_sh = sh;
		} else if (sh.sh_type == SHT_SYMTAB && !t->symtab) {
			t->symtab = scn;
			t->symtab_sh = sh;
		} else if (sh.sh_type == SHT_GNU_versym && !t->versym) {
			t->versym = scn;
			t->versym_sh = sh;
		} else if (sh.sh_type == SHT_GNU_verdef && !t->verdef) {
			t->verdef = scn;
			t->verdef_sh = sh;
		}
	}
}

static int read_all(struct builder *b, char *err, size_t errlen)
{
	struct tables t = {0};
	Elf_Data *versym = NULL;
	int rc;

	find_tables(b, &t);
	if (t.verdef && read_verdef(b, t.verdef, &t.verdef_sh) != 0) {
		snprintf(err, errlen, "%s: damaged ELF: unreadable .gnu.version_d", b->img->path);
		return LM_DAMAGED;
	}
	if (t.versym && t.dynsym && t.versym_sh.sh_link == lm_elf.elf_ndxscn(t.dynsym))
		versym = lm_elf.elf_getdata(t.versym, NULL);
	if (t.dynsym &&
	    (rc = read_table(b, t.dynsym, &t.dynsym_sh, versym, false, err, errlen)) != 0)
		return rc;
	if (t.symtab) {
		if ((rc = read_table(b, t.symtab, &t.symtab_sh, NULL, true, err, errlen)) != 0)
			return rc;
		b->img->has_symtab = true;
	}
	if (finish(b) != 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int lm_image_read_symbols(struct lm_image *img, Elf *elf, char *err, size_t errlen)
{
	struct builder b = {.img = img, .elf = elf};
	int rc = -1;

	if (lm_elf.elf_getshdrnum(elf, &b.shnum) != 0) {
		snprintf(err, errlen, "%s: damaged ELF: bad section headers (%s)", img->path,
		         lm_elf.elf_errmsg(-1));
		return LM_DAMAGED;
	}
	b.sec_end = calloc(b.shnum ? b.shnum : 1, sizeof(*b.sec_end));
	b.vnames = calloc(LM_MAX_VERNDX, sizeof(*b.vnames));
	if (!b.sec_end || !b.vnames)
		snprintf(err, errlen, "out of memory");
	else
		rc = read_all(&b, err, errlen);
	free(b.sec_end);
	free(b.vnames);
	free(b.syms);
	free(b.bounds);
	free(b.imports);
	return rc;
}
