/* The byte offsets the thunks (thunk.S, thunk_fast.S) use in struct
 * lm_frame and struct lm_hook_head. Only #defines, so that the assembly
 * can include it; frame.h checks every one against the C layout. */
#ifndef LM_THUNK_ABI_H
#define LM_THUNK_ABI_H

/* struct lm_frame */
#define LM_F_RAX        48
#define LM_F_R10        56
#define LM_F_XMM        64
#define LM_F_RET_RAX    192
#define LM_F_RET_RDX    200
#define LM_F_RET_XMM0   208
#define LM_F_RET_XMM1   224
#define LM_F_STACK_ARGS 240
#define LM_F_CALL       256
#define LM_FRAME_SIZE   512

/* struct lm_hook_head */
#define LM_H_ORIGINAL    0
#define LM_H_STACK_BYTES 8
#define LM_H_ENTER       16
#define LM_H_LEAVE       24
#define LM_H_FAST_MASK0  40
#define LM_H_FAST_MASK1  48
#define LM_H_FAST_SEED   56
#define LM_H_FAST_EPOCH  64
#define LM_H_FAST_OUTLEN 96
#define LM_H_FAST_GATE   112
#define LM_H_QUICK       128

#endif
