/* lm_thunk_static (frame.h): the thunk of a static-result method whose key
 * is the first argument word. Entered from a stub as the fast thunks are:
 * the hook head in rcx, the caller's rcx at (%rsp), its return address at
 * 8(%rsp). Puts the caller's rcx back, leaves the head where lm_thunk
 * wants it, keeps rax and rsi and calls lm_quick_entry (shim/call/quick.c)
 * with rdi as it came and the head. That function saves whatever else it
 * uses, so a hit returns its result in rax with every other register as
 * the caller left it; LM_QUICK_PASS (1) restores rax and rsi and goes on
 * to lm_thunk, which then sees the call as its own stubs leave it. */

	.text
	.globl	lm_thunk_static
	.hidden	lm_thunk_static
	.type	lm_thunk_static, @function
	.p2align 4
lm_thunk_static:
	.cfi_startproc
	.cfi_def_cfa_offset 16
	endbr64
	pushq	%rax
	.cfi_adjust_cfa_offset 8
	movq	8(%rsp), %rax		/* the caller's rcx */
	movq	%rcx, 8(%rsp)		/* the head, as lm_thunk's stubs push it */
	movq	%rax, %rcx
	pushq	%rsi
	.cfi_adjust_cfa_offset 8
	movq	16(%rsp), %rsi		/* the head */
	call	lm_quick_entry
	cmpq	$1, %rax		/* LM_QUICK_PASS */
	je	1f
	popq	%rsi
	.cfi_adjust_cfa_offset -8
	addq	$16, %rsp		/* the saved rax and the head */
	.cfi_adjust_cfa_offset -16
	ret
	.cfi_adjust_cfa_offset 24
1:	popq	%rsi
	.cfi_adjust_cfa_offset -8
	popq	%rax
	.cfi_adjust_cfa_offset -8
	jmp	lm_thunk
	.cfi_endproc
	.size	lm_thunk_static, .-lm_thunk_static

	.section .note.GNU-stack, "", @progbits
