/* Reset entry for qemu-system-aarch64 -M virt (QEMU starts an ELF -kernel at its entry
 * point in EL1 with the MMU off). Replaces picolibc's crt0 (link with -nostartfiles) so
 * that the vectors and the MMU are up before any C code runs: with the MMU off all data
 * accesses are Device memory, where newer QEMU versions (like hardware) fault on the
 * unaligned accesses that memcpy and vectorized loops make. */
	.section .text.es_start, "ax"
	.global _start
	.type _start, %function
_start:
	msr	daifset, #0xf
	adrp	x0, __es_stack_top
	add	x0, x0, :lo12:__es_stack_top
	mov	sp, x0
	/* FP/SIMD: CPACR_EL1.FPEN = 0b11, no traps at EL1/EL0. */
	mov	x0, #(3 << 20)
	msr	cpacr_el1, x0
	adrp	x0, es_vectors
	add	x0, x0, :lo12:es_vectors
	msr	vbar_el1, x0
	isb
	mrs	x0, CurrentEL
	cmp	x0, #(1 << 2)
	b.ne	1f
	bl	es_mmu_enable
	bl	es_runtime_init
	mov	w0, #0
	mov	x1, #0
	bl	main
	bl	exit
1:	bl	es_wrong_exception_level
	.size _start, . - _start
