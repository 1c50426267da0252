/* The personality routine of lm_thunk's frame. An unwinder that leaves the
 * original (a C++ exception, pthread_cancel, pthread_exit) passes through
 * the thunk's frame; without this, the call's pending marker would stay
 * in the store and every later miss of the key would wait out the
 * coalescing timeout. The routine never catches: it tells the dispatcher
 * in the cleanup phase and lets the unwinding go on. */
#include <stdint.h>
#include <unwind.h>

#include "frame.h"
#include "shim/base/addr.h"

/* DWARF numbers of the registers lm_thunk keeps across the call of the
 * original (thunk.S): rbx the hook head, r12 the frame, r13 what enter
 * asked for. Callee-saved, so the unwinder has their values here. */
enum { DW_RBX = 3, DW_R12 = 12, DW_R13 = 13 };

__attribute__((visibility("hidden"))) _Unwind_Reason_Code
lm_thunk_personality(int version, _Unwind_Action actions, _Unwind_Exception_Class cls,
                     struct _Unwind_Exception *ex, struct _Unwind_Context *ctx);

_Unwind_Reason_Code lm_thunk_personality(int version, _Unwind_Action actions,
                                         _Unwind_Exception_Class cls, struct _Unwind_Exception *ex,
                                         struct _Unwind_Context *ctx)
{
	(void)cls;
	(void)ex;
	if (version != 1)
		return _URC_FATAL_PHASE1_ERROR;
	/* Phase 1 (search): nothing to catch here. Phase 2: once per frame. */
	if (!(actions & _UA_CLEANUP_PHASE) ||
	    _Unwind_GetIP(ctx) != (uintptr_t)lm_thunk_original_return)
		return _URC_CONTINUE_UNWIND;
	const struct lm_hook_head *h = lm_ptr(_Unwind_GetGR(ctx, DW_RBX));
	struct lm_frame *f = lm_ptr(_Unwind_GetGR(ctx, DW_R12));
	if ((uint32_t)_Unwind_GetGR(ctx, DW_R13) == LM_ENTER_CALL && h->unwound)
		h->unwound((struct lm_hook *)h, f);
	return _URC_CONTINUE_UNWIND;
}
