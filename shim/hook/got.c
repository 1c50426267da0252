/* GOT hooking: point the relocation slots (JUMP_SLOT, GLOB_DAT, 64) that
 * name a hooked function at its stub, in every loaded object but the shim,
 * and again in objects loaded later (lm_hook_rescan_got). */
#include "hook_record.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shim/base/addr.h"
#include "patch.h"
#include "shim/base/guard.h"

struct seen {
	uintptr_t base;
	const void *phdr;
	char *name;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct lm_hook *hooks; /* every GOT hook, newest first */
/* Between lm_got_batch_begin and _end: the hooks installed, patched in
 * one pass at the end (a pass per hook read every relocation of every
 * object again, most of a large program's start-up). */
static bool batching;
static struct lm_hook *batch;
static struct seen *seen;
static size_t nseen, seen_cap;

struct dyn_tables {
	const Elf64_Sym *symtab;
	const char *strtab;
	size_t strsz;
	const Elf64_Rela *rel[2];
	size_t relsz[2];
};

bool lm_phdr_contains(const struct dl_phdr_info *info, uintptr_t a)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const Elf64_Phdr *ph = &info->dlpi_phdr[i];
		uintptr_t s = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type == PT_LOAD && a >= s && a < s + ph->p_memsz)
			return true;
	}
	return false;
}

/* glibc relocates the d_ptr values of loaded objects, but not of the vDSO */
static uintptr_t dyn_ptr(const struct dl_phdr_info *info, Elf64_Addr v)
{
	return v < info->dlpi_addr ? info->dlpi_addr + v : v;
}

static bool read_dynamic(const struct dl_phdr_info *info, struct dyn_tables *t)
{
	const Elf64_Dyn *d = NULL;
	bool rela = true;

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
			d = lm_ptr(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
	if (!d)
		return false;
	for (; d->d_tag != DT_NULL; d++) {
		switch (d->d_tag) {
		case DT_SYMTAB:
			t->symtab = lm_ptr(dyn_ptr(info, d->d_un.d_ptr));
			break;
		case DT_STRTAB:
			t->strtab = lm_ptr(dyn_ptr(info, d->d_un.d_ptr));
			break;
		case DT_STRSZ:
			t->strsz = d->d_un.d_val;
			break;
		case DT_JMPREL:
			t->rel[0] = lm_ptr(dyn_ptr(info, d->d_un.d_ptr));
			break;
		case DT_PLTRELSZ:
			t->relsz[0] = d->d_un.d_val;
			break;
		case DT_PLTREL:
			rela = d->d_un.d_val == DT_RELA;
			break;
		case DT_RELA:
			t->rel[1] = lm_ptr(dyn_ptr(info, d->d_un.d_ptr));
			break;
		case DT_RELASZ:
			t->relsz[1] = d->d_un.d_val;
			break;
		case DT_SYMENT:
			if (d->d_un.d_val != sizeof(Elf64_Sym))
				return false;
			break;
		case DT_RELAENT:
			if (d->d_un.d_val != sizeof(Elf64_Rela))
				return false;
			break;
		default:
			break;
		}
	}
	return rela && t->symtab && t->strtab;
}

/* Does the slot currently lead to H's definition? A lazily bound slot still
 * points into its own object's PLT. */
static bool slot_leads_to(const struct dl_phdr_info *info, const Elf64_Rela *r,
                          const Elf64_Sym *sym, uintptr_t val, const struct lm_hook *h)
{
	if (val == h->def)
		return true;
	return ELF64_R_TYPE(r->r_info) == R_X86_64_JUMP_SLOT && sym->st_shndx == SHN_UNDEF &&
	       lm_phdr_contains(info, val);
}

enum slot_op { SLOTS_INSTALL, SLOTS_RESTORE, SLOTS_BYPASS };

/* One bit of 64 for a name, from its first two bytes: a relocation whose
 * name's bit no hook has is passed over without a string comparison (a
 * program and its libraries have thousands; start-up patched them once
 * per hook with a strcmp each). */
static uint64_t name_bit(const char *name)
{
	unsigned a = (unsigned char)name[0], b = a ? (unsigned char)name[1] : 0;

	return UINT64_C(1) << ((a * 31 + b) & 63);
}

/* The hooks a pass patches: ONE alone, or the chain from LIST on
 * (next_got). */
struct scope {
	struct lm_hook *one, *list;
	bool every; /* a batch with no older hook: it is every hook */
};

/* INSTALL: slots that lead to the definition (or to the counting stub)
 * lead to the stub, for each hook of the scope. RESTORE and BYPASS: the
 * scope's one hook's slots that lead to its stub lead to its definition,
 * or to its counting stub (the definition where it has none). */
static void patch_object(const struct dl_phdr_info *info, struct scope sc, enum slot_op op)
{
	struct lm_hook *only = sc.one;
	struct dyn_tables t;

	if (!read_dynamic(info, &t))
		return;
	uint64_t want = 0;
	for (const struct lm_hook *h = only ? only : sc.list; h; h = only ? NULL : h->next_got)
		want |= name_bit(h->name);
	for (int k = 0; k < 2; k++) {
		size_t n = t.rel[k] ? t.relsz[k] / sizeof(Elf64_Rela) : 0;

		for (size_t i = 0; i < n; i++) {
			const Elf64_Rela *r = &t.rel[k][i];
			unsigned type = ELF64_R_TYPE(r->r_info);
			const Elf64_Sym *sym = &t.symtab[ELF64_R_SYM(r->r_info)];
			uintptr_t slot = info->dlpi_addr + r->r_offset, val;
			const char *name;

			if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT &&
			    type != R_X86_64_64)
				continue;
			if (!ELF64_R_SYM(r->r_info) || (t.strsz && sym->st_name >= t.strsz))
				continue;
			name = t.strtab + sym->st_name;
			if (!(want & name_bit(name)))
				continue;
			val = *(const uintptr_t *)lm_ptr(slot);
			if (op != SLOTS_INSTALL) {
				if (val == (uintptr_t)only->stub && strcmp(name, only->name) == 0)
					lm_patch_slot(slot, op == SLOTS_BYPASS && only->count_stub
					                        ? (uintptr_t)only->count_stub
					                        : only->def);
				continue;
			}
			for (struct lm_hook *h = only ? only : sc.list; h;
			     h = only ? NULL : h->next_got) {
				if (name[0] != h->name[0] || strcmp(name, h->name) != 0 ||
				    val == (uintptr_t)h->stub)
					continue;
				if (h->count_stub && val == (uintptr_t)h->count_stub)
					val = h->def;
				if (type == R_X86_64_64 ? val != h->def
				                        : !slot_leads_to(info, r, sym, val, h))
					continue;
				if (!lm_patch_slot(slot, (uintptr_t)h->stub))
					h->info.nslots++;
			}
		}
	}
}

static bool is_shim(const struct dl_phdr_info *info)
{
	return lm_phdr_contains(info, (uintptr_t)lm_thunk);
}

static int install_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	(void)sz;
	if (!is_shim(info))
		patch_object(info, *(struct scope *)arg, SLOTS_INSTALL);
	return 0;
}

static int restore_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	(void)sz;
	if (!is_shim(info))
		patch_object(info, (struct scope){.one = arg}, SLOTS_RESTORE);
	return 0;
}

static int bypass_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	(void)sz;
	if (!is_shim(info))
		patch_object(info, (struct scope){.one = arg}, SLOTS_BYPASS);
	return 0;
}

void lm_got_repatch(struct lm_hook *h)
{
	LM_KEEP_ERRNO();
	struct scope sc = {.one = h};
	pthread_mutex_lock(&lock);
	dl_iterate_phdr(install_cb, &sc);
	pthread_mutex_unlock(&lock);
}

void lm_hook_restore_got(struct lm_hook *h)
{
	LM_KEEP_ERRNO();
	if (!h || h->info.mode != LM_HM_GOT)
		return;
	pthread_mutex_lock(&lock);
	dl_iterate_phdr(restore_cb, h);
	pthread_mutex_unlock(&lock);
}

void lm_got_bypass(struct lm_hook *h)
{
	LM_KEEP_ERRNO();

	pthread_mutex_lock(&lock);
	dl_iterate_phdr(bypass_cb, h);
	pthread_mutex_unlock(&lock);
}

void lm_got_install(struct lm_hook *h)
{
	LM_KEEP_ERRNO();
	struct scope sc = {.one = h};

	pthread_mutex_lock(&lock);
	if (batching) {
		h->next_got = batch;
		batch = h;
	} else {
		dl_iterate_phdr(install_cb, &sc);
		h->next_got = hooks;
		hooks = h;
	}
	pthread_mutex_unlock(&lock);
}

void lm_got_batch_begin(void)
{
	pthread_mutex_lock(&lock);
	batching = true;
	pthread_mutex_unlock(&lock);
}

void lm_got_release(struct lm_hook *h)
{
	pthread_mutex_lock(&lock);
	for (struct lm_hook **p = &hooks; *p; p = &(*p)->next_got)
		if (*p == h) {
			*p = h->next_got;
			break;
		}
	pthread_mutex_unlock(&lock);
}

static bool mark_seen(const struct dl_phdr_info *info)
{
	const char *name = info->dlpi_name ? info->dlpi_name : "";
	struct seen *grown;

	for (size_t i = 0; i < nseen; i++)
		if (seen[i].base == info->dlpi_addr && seen[i].phdr == info->dlpi_phdr &&
		    !strcmp(seen[i].name, name))
			return false;
	if (nseen == seen_cap) {
		size_t cap = seen_cap ? 2 * seen_cap : 32;

		grown = realloc(seen, cap * sizeof(*seen));
		if (!grown)
			return true; /* patch anyway: patching twice is harmless */
		seen = grown;
		seen_cap = cap;
	}
	seen[nseen].name = strdup(name);
	if (!seen[nseen].name)
		return true;
	seen[nseen].base = info->dlpi_addr;
	seen[nseen].phdr = info->dlpi_phdr;
	nseen++;
	return true;
}

static int rescan_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	(void)sz;
	(void)arg;
	if (!is_shim(info) && mark_seen(info))
		patch_object(info, (struct scope){.list = hooks}, SLOTS_INSTALL);
	return 0;
}

void lm_hook_rescan_got(void)
{
	LM_KEEP_ERRNO();

	pthread_mutex_lock(&lock);
	if (hooks)
		dl_iterate_phdr(rescan_cb, NULL);
	pthread_mutex_unlock(&lock);
}

/* A batch's pass: an object it patches with every hook there is needs
 * nothing from the rescan that follows (it would read every relocation
 * again). */
static int batch_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	const struct scope *sc = arg;

	(void)sz;
	if (is_shim(info))
		return 0;
	patch_object(info, *sc, SLOTS_INSTALL);
	if (sc->every)
		mark_seen(info);
	return 0;
}

void lm_got_batch_end(void)
{
	LM_KEEP_ERRNO();

	pthread_mutex_lock(&lock);
	batching = false;
	if (batch) {
		struct scope sc = {.list = batch, .every = !hooks};
		dl_iterate_phdr(batch_cb, &sc);
		struct lm_hook *last = batch;
		while (last->next_got)
			last = last->next_got;
		last->next_got = hooks;
		hooks = batch;
		batch = NULL;
	}
	pthread_mutex_unlock(&lock);
}

struct imports_arg {
	lm_import_fn fn;
	void *arg;
};

/* Every named function symbol an object's relocations bind, defined
 * elsewhere (undefined here): what calls through its PLT/GOT reach. */
static int imports_cb(struct dl_phdr_info *info, size_t sz, void *p)
{
	const struct imports_arg *ia = p;
	struct dyn_tables t;

	(void)sz;
	if (is_shim(info) || !read_dynamic(info, &t))
		return 0;
	for (int k = 0; k < 2; k++) {
		size_t n = t.rel[k] ? t.relsz[k] / sizeof(Elf64_Rela) : 0;

		for (size_t i = 0; i < n; i++) {
			const Elf64_Rela *r = &t.rel[k][i];
			unsigned type = ELF64_R_TYPE(r->r_info);
			const Elf64_Sym *sym = &t.symtab[ELF64_R_SYM(r->r_info)];

			if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
				continue;
			if (!ELF64_R_SYM(r->r_info) || sym->st_shndx != SHN_UNDEF ||
			    (ELF64_ST_TYPE(sym->st_info) != STT_FUNC &&
			     ELF64_ST_TYPE(sym->st_info) != STT_GNU_IFUNC) ||
			    (t.strsz && sym->st_name >= t.strsz))
				continue;
			ia->fn(t.strtab + sym->st_name, ia->arg);
		}
	}
	return 0;
}

void lm_got_imports(lm_import_fn fn, void *arg)
{
	struct imports_arg ia = {fn, arg};
	LM_KEEP_ERRNO();
	dl_iterate_phdr(imports_cb, &ia);
}

static int still_loaded_cb(struct dl_phdr_info *info, size_t sz, void *arg)
{
	const struct seen *s = arg;

	(void)sz;
	return s->base == info->dlpi_addr && s->phdr == info->dlpi_phdr &&
	       !strcmp(s->name, info->dlpi_name ? info->dlpi_name : "");
}

void lm_hook_forget_unloaded(void)
{
	LM_KEEP_ERRNO();
	size_t kept = 0;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nseen; i++) {
		if (dl_iterate_phdr(still_loaded_cb, &seen[i]))
			seen[kept++] = seen[i];
		else
			free(seen[i].name);
	}
	nseen = kept;
	pthread_mutex_unlock(&lock);
}
