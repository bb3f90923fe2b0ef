/* A virtio-blk driver loop over virtio-mmio v2 at 0xd0000000 (polling, no interrupts):
   writes a pattern to sector 1, reads sector 0 (host pattern i ^ 0x5a) and checks it,
   then reads past the end and expects IOERR. Exit code 1 = all good; others name the failed step. */
    .intel_syntax noprefix
    .code64
    .globl _start

    .equ BASE, 0xd0000000
    .equ DESC, 0x200000
    .equ AVAIL, 0x201000
    .equ USED, 0x202000
    .equ HDR, 0x203000
    .equ DATA_OUT, 0x204000
    .equ STATUS, 0x205000
    .equ DATA_IN, 0x206000

    .macro FAIL code
    mov al, \code
    out 0xf4, al
    .endm

    .macro DESCRIPTOR index, addr, len, flags, next
    mov qword ptr [DESC + \index * 16], \addr
    mov dword ptr [DESC + \index * 16 + 8], \len
    mov word ptr [DESC + \index * 16 + 12], \flags
    mov word ptr [DESC + \index * 16 + 14], \next
    .endm

    .text
_start:
    mov ebx, BASE
    cmp dword ptr [rbx + 0x00], 0x74726976
    je 1f
    FAIL 10
1:  cmp dword ptr [rbx + 0x04], 2
    je 1f
    FAIL 11
1:  cmp dword ptr [rbx + 0x08], 2
    je 1f
    FAIL 12
1:  mov dword ptr [rbx + 0x70], 0
    mov dword ptr [rbx + 0x70], 1
    mov dword ptr [rbx + 0x70], 3
    mov dword ptr [rbx + 0x14], 1
    test dword ptr [rbx + 0x10], 1          /* VIRTIO_F_VERSION_1 (bit 32) */
    jnz 1f
    FAIL 13
1:  mov dword ptr [rbx + 0x24], 1
    mov dword ptr [rbx + 0x20], 1
    mov dword ptr [rbx + 0x24], 0
    mov dword ptr [rbx + 0x20], 0
    mov dword ptr [rbx + 0x70], 0xb
    test dword ptr [rbx + 0x70], 8
    jnz 1f
    FAIL 14
1:  mov dword ptr [rbx + 0x30], 0
    cmp dword ptr [rbx + 0x34], 8
    jae 1f
    FAIL 15
1:  mov dword ptr [rbx + 0x38], 8
    mov dword ptr [rbx + 0x80], DESC
    mov dword ptr [rbx + 0x84], 0
    mov dword ptr [rbx + 0x90], AVAIL
    mov dword ptr [rbx + 0x94], 0
    mov dword ptr [rbx + 0xa0], USED
    mov dword ptr [rbx + 0xa4], 0
    mov dword ptr [rbx + 0x44], 1
    mov dword ptr [rbx + 0x70], 0xf
    test dword ptr [rbx + 0x70], 0x40       /* NEEDS_RESET */
    jz 1f
    FAIL 16

    /* Request 1: OUT, sector 1, data byte i = i * 7 + 3. */
1:  xor ecx, ecx
2:  mov eax, ecx
    imul eax, eax, 7
    add eax, 3
    mov byte ptr [DATA_OUT + rcx], al
    inc ecx
    cmp ecx, 512
    jne 2b
    mov dword ptr [HDR], 1
    mov dword ptr [HDR + 4], 0
    mov qword ptr [HDR + 8], 1
    mov byte ptr [STATUS], 0xff
    DESCRIPTOR 0, HDR, 16, 1, 1
    DESCRIPTOR 1, DATA_OUT, 512, 1, 2
    DESCRIPTOR 2, STATUS, 1, 2, 0
    mov word ptr [AVAIL + 4], 0
    mov word ptr [AVAIL + 2], 1
    mov dword ptr [rbx + 0x50], 0
3:  cmp word ptr [USED + 2], 1
    jne 3b
    cmp byte ptr [STATUS], 0
    je 1f
    FAIL 20
1:  test dword ptr [rbx + 0x60], 1
    jnz 1f
    FAIL 21
1:  mov dword ptr [rbx + 0x64], 1

    /* Request 2: IN, sector 0, expect byte i = i ^ 0x5a, used length 513. */
    mov dword ptr [HDR + 0x100], 0
    mov dword ptr [HDR + 0x104], 0
    mov qword ptr [HDR + 0x108], 0
    mov byte ptr [STATUS + 0x100], 0xff
    DESCRIPTOR 3, HDR + 0x100, 16, 1, 4
    DESCRIPTOR 4, DATA_IN, 512, 3, 5
    DESCRIPTOR 5, STATUS + 0x100, 1, 2, 0
    mov word ptr [AVAIL + 6], 3
    mov word ptr [AVAIL + 2], 2
    mov dword ptr [rbx + 0x50], 0
3:  cmp word ptr [USED + 2], 2
    jne 3b
    cmp byte ptr [STATUS + 0x100], 0
    je 1f
    FAIL 30
1:  cmp dword ptr [USED + 4 + 8 + 4], 513
    je 1f
    FAIL 31
1:  xor ecx, ecx
2:  mov eax, ecx
    xor eax, 0x5a
    cmp byte ptr [DATA_IN + rcx], al
    je 4f
    FAIL 32
4:  inc ecx
    cmp ecx, 512
    jne 2b

    /* Request 3: IN past the end of the 8-sector disk: IOERR. */
    mov dword ptr [HDR + 0x200], 0
    mov qword ptr [HDR + 0x208], 8
    mov byte ptr [STATUS + 0x200], 0xff
    DESCRIPTOR 6, HDR + 0x200, 16, 1, 7
    DESCRIPTOR 7, DATA_IN, 512, 2, 0
    mov word ptr [AVAIL + 8], 6
    mov word ptr [AVAIL + 2], 3
    mov dword ptr [rbx + 0x50], 0
3:  cmp word ptr [USED + 2], 3
    jne 3b
    /* Chain 6 has no separate status descriptor: the status is the last byte of DATA_IN. */
    cmp byte ptr [DATA_IN + 511], 1
    je 1f
    FAIL 40
1:  FAIL 1
    jmp 1b
