/* The hook record shared by hook.c, got.c and disasm_log.c. */
#ifndef LM_HOOK_RECORD_H
#define LM_HOOK_RECORD_H

#include <link.h>
#include <stdbool.h>
#include <stdint.h>

#include "hook.h"
#include "shim/arch/x86_64/reloc.h"

#define LM_STUB_MAX 32
#define LM_ORIG_MAX 48
/* endbr64; push %rax; movabs $count, %rax; incq (%rax); testw $0xffff,
 * (%rax); pop %rax; jz tick stub; jmp */
#define LM_COUNT_STUB_MAX 48

struct lm_hook {
	struct lm_hook_head head; /* first: the stub hands the thunk this address */
	void *ctx;
	void (*entry)(void); /* the thunk the stub jumps to */
	char *name;          /* GOT slot matching */
	uintptr_t def;       /* the definition's entry */
	unsigned char *stub;
	unsigned stub_len;
	unsigned char *tramp; /* detour only */
	unsigned tramp_len;
	size_t mem_len; /* near memory held: stub, trampoline, counting stub */
	struct lm_reloc_plan plan;
	unsigned char orig[LM_ORIG_MAX]; /* the entry as it was, endbr64 included */
	unsigned orig_len;
	bool installed;
	struct lm_hook_info info;
	struct lm_hook *next_got;
	/* While bypassed (adaptive), calls go through the counting stub to
	 * the function: the detour's jump to it, or what GOT slots hold. */
	unsigned char *count_stub; /* NULL: no room; bypassed calls uncounted */
	unsigned char bypass_bytes[32];
	/* One bypassed call in 65,536 goes through the tick stub: lm_thunk
	 * with this head, whose enter runs the tick (lm_hook_set_tick) and
	 * passes the call on to the function. */
	struct lm_hook_head tick_head;
	unsigned char *tick_stub;
	/* Counted by the counting stub without a lock prefix (the bypass is
	 * for functions too cheap to cache): exact on one thread, a lower
	 * bound under several. Its own cache line. */
	uint64_t bypassed_calls __attribute__((aligned(64)));
	struct lm_hook *next_released; /* lm_hook_release keeps it reachable */
};

/* Make H's GOT slots in every loaded object but the shim point at its stub,
 * and keep H for lm_hook_rescan_got. */
void lm_got_install(struct lm_hook *h);
/* Installs between these two patch their slots together, at the end. */
void lm_got_batch_begin(void);
void lm_got_batch_end(void);
/* Is A inside one of INFO's loaded segments? */
bool lm_phdr_contains(const struct dl_phdr_info *info, uintptr_t a);
/* Stop patching H's slots in objects loaded later. */
void lm_got_release(struct lm_hook *h);
/* Point H's slots at its stub again after lm_hook_restore_got or
 * lm_got_bypass. */
void lm_got_repatch(struct lm_hook *h);
/* Point H's slots that lead to its stub at its counting stub. */
void lm_got_bypass(struct lm_hook *h);

#endif
