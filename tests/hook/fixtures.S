/* Hand-written functions, one per hard case for the detour. */
	.text

	.data
	.p2align 3
	.globl	fx_data
fx_data:
	.quad	1000

	.text
/* long fx_rip(long x): a RIP-relative mov and lea in the first bytes */
	.globl	fx_rip
	.type	fx_rip, @function
	.p2align 4
fx_rip:
	movq	fx_data(%rip), %rax
	leaq	fx_data(%rip), %rcx
	addq	(%rcx), %rax
	addq	%rdi, %rax
	ret
	.size	fx_rip, .-fx_rip

/* long fx_jcc8(long x): x ? x + 1 : 42, with a rel8 je in the first 5 bytes */
	.globl	fx_jcc8
	.type	fx_jcc8, @function
	.p2align 4
fx_jcc8:
	testq	%rdi, %rdi
	je	1f
	leaq	1(%rdi), %rax
	ret
1:	movl	$42, %eax
	ret
	.size	fx_jcc8, .-fx_jcc8

	.type	fx_helper, @function
	.p2align 4
fx_helper:
	movl	$100, %eax
	ret
	.size	fx_helper, .-fx_helper

/* long fx_call(long x): a call as the first instruction; x + 100 */
	.globl	fx_call
	.type	fx_call, @function
	.p2align 4
fx_call:
	call	fx_helper
	addq	%rdi, %rax
	ret
	.size	fx_call, .-fx_call

/* int fx_tiny(int x): x, in 3 bytes, then padding up to fx_after_tiny */
	.globl	fx_tiny
	.type	fx_tiny, @function
	.p2align 4
fx_tiny:
	leal	(%rdi), %eax
	ret
	.size	fx_tiny, .-fx_tiny
	.byte	0xcc, 0x66, 0x90
	.p2align 4, 0xcc
	.globl	fx_after_tiny
	.type	fx_after_tiny, @function
fx_after_tiny:
	ret
	.size	fx_after_tiny, .-fx_after_tiny

/* long fx_loop(long n): 1 + ... + n; the loop head is at +2 */
	.globl	fx_loop
	.type	fx_loop, @function
	.p2align 4
fx_loop:
	xorl	%eax, %eax
1:	addq	%rdi, %rax
	decq	%rdi
	jnz	1b
	ret
	.size	fx_loop, .-fx_loop

/* long fx_endbr(long x): x + 8, entered through endbr64 */
	.globl	fx_endbr
	.type	fx_endbr, @function
	.p2align 4
fx_endbr:
	endbr64
	leaq	7(%rdi), %rax
	addq	$1, %rax
	ret
	.size	fx_endbr, .-fx_endbr

/* long fx_work(long x): 3x + 1; one 8-byte instruction covers the patch,
 * so a thread running it while it is patched is never mid-window */
	.globl	fx_work
	.type	fx_work, @function
	.p2align 4
fx_work:
	.byte	0x48, 0x8d, 0x84, 0x7f, 0x01, 0x00, 0x00, 0x00 /* lea 1(%rdi,%rdi,2),%rax */
	ret
	.size	fx_work, .-fx_work

	.section .note.GNU-stack, "", @progbits
