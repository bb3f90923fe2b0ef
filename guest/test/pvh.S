/* PVH entry: starts in 32-bit protected mode without paging at the XEN_ELFNOTE_PHYS32_ENTRY
   address, prints "PVH" on COM1 and exits 1 if EBX points at an hvm_start_info (magic 0x336ec578)
   and CR0.PG is clear, 2 otherwise. The 64-bit _start exits 3 (wrong entry used). */
    .intel_syntax noprefix
    .globl _start

    .section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 4
    .long 18                        /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_start

    .text
    .code64
_start:
    mov al, 3
    out 0xf4, al
    jmp _start

    .code32
pvh_start:
    mov dx, 0x3f8
    mov al, 'P'
    out dx, al
    mov al, 'V'
    out dx, al
    mov al, 'H'
    out dx, al
    mov ecx, 2
    cmp dword ptr [ebx], 0x336ec578
    jne 1f
    mov eax, cr0
    test eax, 0x80000000
    jnz 1f
    mov ecx, 1
1:  mov eax, ecx
    out 0xf4, al
    jmp 1b
