/* Entry of the UEFI application (the PE/COFF entry point): efi_main(ImageHandle, SystemTable)
 * under the UEFI AArch64 calling convention, with the MMU, caches and FP/SIMD already on.
 *
 * The image is linked position-independent at 0 (code at 0x1000, right after the PE
 * headers) and the firmware may load it anywhere. Its PE base relocation directory is empty
 * (efi.ld), so the firmware changes nothing; the absolute addresses the code keeps in data
 * (pointer tables) are R_AARCH64_RELATIVE relocations in .rela, applied here against the
 * address the image was loaded at, before any C code runs. */
	.section .text.es_start, "ax"
	.global _start
	.type _start, %function
_start:
	stp	x29, x30, [sp, #-32]!
	mov	x29, sp
	stp	x0, x1, [sp, #16]
	adr	x2, _start
	sub	x2, x2, #0x1000		/* the load address: _start is at 0x1000 (efi.ld) */
	adrp	x3, __es_rela_start
	add	x3, x3, :lo12:__es_rela_start
	adrp	x4, __es_rela_end
	add	x4, x4, :lo12:__es_rela_end
1:	cmp	x3, x4
	b.hs	3f
	ldp	x5, x6, [x3], #16	/* r_offset, r_info */
	ldr	x7, [x3], #8		/* r_addend */
	cmp	x6, #1027		/* R_AARCH64_RELATIVE, no symbol */
	b.ne	2f
	add	x7, x7, x2
	str	x7, [x2, x5]
	b	1b
2:	mov	x0, #1			/* EFI_LOAD_ERROR: a relocation this loader cannot apply */
	orr	x0, x0, #(1 << 63)
	ldp	x29, x30, [sp], #32
	ret
3:	ldp	x0, x1, [sp, #16]
	mov	x2, sp
	bl	es_efi_main
	ldp	x29, x30, [sp], #32
	ret
	.size _start, . - _start
