/* Reset entry of the Raspberry Pi 3 image (kernel8.img, loaded at 0x80000). The firmware,
 * or QEMU's -M raspi3b, enters here at EL2 (EL3 and EL1 are handled too), possibly on all
 * four cores: cores 1-3 park on wfe, core 0 drops to EL1 (where common/vectors.S,
 * common/fault.c and common/mmu.c work as on qemu-virt), sets its stack, turns on the MMU
 * and caches, clears bss and calls main. */
	.section .text.es_start, "ax"
	.global _start
	.type _start, %function
_start:
	msr	daifset, #0xf
	mrs	x0, mpidr_el1
	and	x0, x0, #3
	cbz	x0, 1f
0:	wfe
	b	0b

1:	mrs	x0, CurrentEL
	lsr	x0, x0, #2
	cmp	x0, #3
	b.ne	2f
	/* EL3 (a firmware without its arm stub): non-secure, EL2 in AArch64, on to EL2. */
	mov	x0, #((1 << 10) | (1 << 8) | (1 << 0))
	msr	scr_el3, x0
	mov	x0, #0x3c9	/* EL2h, DAIF masked */
	msr	spsr_el3, x0
	adr	x0, 2f
	msr	elr_el3, x0
	eret

2:	mrs	x0, CurrentEL
	lsr	x0, x0, #2
	cmp	x0, #2
	b.ne	3f
	/* EL2: EL1 in AArch64 with its own counters and FP/SIMD untrapped, MMU off; then eret. */
	mov	x0, #3		/* CNTHCTL_EL2: EL1PCTEN | EL1PCEN */
	msr	cnthctl_el2, x0
	msr	cntvoff_el2, xzr
	mrs	x0, midr_el1
	msr	vpidr_el2, x0
	mrs	x0, mpidr_el1
	msr	vmpidr_el2, x0
	mov	x0, #(1 << 31)	/* HCR_EL2.RW */
	msr	hcr_el2, x0
	mov	x0, #0x33ff	/* CPTR_EL2: RES1 bits, TFP clear */
	msr	cptr_el2, x0
	msr	hstr_el2, xzr
	ldr	x0, =0x30d00800	/* SCTLR_EL1: RES1 bits, little-endian, MMU and caches off */
	msr	sctlr_el1, x0
	mov	x0, #0x3c5	/* EL1h, DAIF masked */
	msr	spsr_el2, x0
	adr	x0, 3f
	msr	elr_el2, x0
	eret

3:	adrp	x0, __es_stack_top
	add	x0, x0, :lo12:__es_stack_top
	mov	sp, x0
	/* FP/SIMD: CPACR_EL1.FPEN = 0b11, no traps at EL1/EL0. */
	mov	x0, #(3 << 20)
	msr	cpacr_el1, x0
	adrp	x0, es_vectors
	add	x0, x0, :lo12:es_vectors
	msr	vbar_el1, x0
	isb
	bl	es_mmu_enable
	bl	es_runtime_init
	bl	main
	mov	w0, #1
	bl	es_platform_exit
	.size _start, . - _start
