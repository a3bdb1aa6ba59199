/* Exception vector table: 16 entries of 128 bytes, 2 KiB aligned. Every entry moves to a
 * stack of its own (the fault may be a stack overflow into the guard page) and reports;
 * nothing returns, so clobbering registers is fine. */
	.macro es_vector index
	.balign 0x80
	mov	x0, #\index
	b	es_vector_common
	.endm

	.section .text.es_vectors, "ax"
	.balign 0x800
	.global es_vectors
es_vectors:
	es_vector 0   /* current EL, SP_EL0: synchronous */
	es_vector 1   /* IRQ */
	es_vector 2   /* FIQ */
	es_vector 3   /* SError */
	es_vector 4   /* current EL, SP_ELx: synchronous */
	es_vector 5
	es_vector 6
	es_vector 7
	es_vector 8   /* lower EL, AArch64 */
	es_vector 9
	es_vector 10
	es_vector 11
	es_vector 12  /* lower EL, AArch32 */
	es_vector 13
	es_vector 14
	es_vector 15

es_vector_common:
	adrp	x1, __es_exception_stack_top
	add	x1, x1, :lo12:__es_exception_stack_top
	mov	sp, x1
	bl	es_exception_report
1:	b	1b
