/* Brings up every vCPU the way an OS does: the boot vCPU copies a real-mode trampoline to 0x10000 and sends
   INIT and STARTUP IPIs (vector 0x10) through its local APIC to all others; each AP goes real mode ->
   protected mode -> long mode on the VMM's page tables (CR3 0x9000), takes its own stack, prints "cpu N"
   under a spinlock and counts itself in. The boot vCPU exits through port 0xf4 with the count once every
   vCPU that CPUID leaf 1 announces (EBX[23:16]) has arrived. */
    .code64
    .globl _start
    .text

    .equ LAPIC, 0xfee00000
    .equ TRAMPOLINE, 0x10000
    .equ AP_STACKS, 0x80000

_start:
    /* Copy the trampoline below 1 MiB, where a STARTUP IPI can point. */
    lea tramp_start(%rip), %rsi
    mov $TRAMPOLINE, %edi
    mov $(tramp_end - tramp_start), %ecx
    rep movsb

    /* Software-enable the local APIC (spurious vector 0xff), then INIT, STARTUP, STARTUP to all but self. */
    mov $LAPIC, %ebx
    movl $0x1ff, 0xf0(%rbx)
    movl $0, 0x310(%rbx)
    movl $0x000c4500, 0x300(%rbx)
    call delay
    movl $0x000c4610, 0x300(%rbx)
    call delay
    movl $0x000c4610, 0x300(%rbx)

    call announce

    /* Wait for every vCPU: the count is CPUID.1:EBX[23:16]. */
    mov $1, %eax
    cpuid
    shr $16, %ebx
    and $0xff, %ebx
1:  mov arrived(%rip), %eax
    cmp %ebx, %eax
    jb 1b
    out %al, $0xf4
    jmp 1b

/* Prints "cpu <APIC id>\n" under the serial lock and counts this vCPU in. */
announce:
    mov $1, %eax
    cpuid
    shr $24, %ebx
2:  lock btsl $0, serial_lock(%rip)
    jc 2b
    lea message(%rip), %rsi
    mov $0x3f8, %dx
3:  movb (%rsi), %al
    test %al, %al
    jz 4f
    out %al, %dx
    inc %rsi
    jmp 3b
4:  mov %bl, %al
    add $'0', %al
    out %al, %dx
    mov $'\n', %al
    out %al, %dx
    movl $0, serial_lock(%rip)
    lock incl arrived(%rip)
    ret

delay:
    mov $200000, %ecx
5:  pause
    loop 5b
    ret

/* An AP in long mode: its own stack (by APIC id), announce, then halt for good. */
ap_main:
    mov $1, %eax
    cpuid
    shr $24, %ebx
    shl $12, %ebx
    lea AP_STACKS + 0x1000(%rbx), %rsp
    call announce
6:  cli
    hlt
    jmp 6b

message:
    .asciz "cpu "
    .balign 4
serial_lock:
    .long 0
arrived:
    .long 0

/* Runs at 0x10000 (CS = 0x1000 after STARTUP vector 0x10): every address below is relative to that copy. */
    .balign 16
tramp_start:
    .code16
    cli
    mov %cs, %ax
    mov %ax, %ds
    lgdtl gdt_desc - tramp_start
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $(TRAMPOLINE + pm32 - tramp_start)
    .code32
pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $0x20, %eax                  /* PAE */
    mov %eax, %cr4
    mov $0x9000, %eax               /* the VMM's identity map of the low 4 GiB */
    mov %eax, %cr3
    mov $0xc0000080, %ecx           /* EFER.LME */
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000000, %eax            /* paging on: long mode active */
    mov %eax, %cr0
    ljmp $0x18, $(TRAMPOLINE + lm64 - tramp_start)
    .code64
lm64:
    movabs $ap_main, %rax
    jmp *%rax
    .balign 8
gdt:
    .quad 0
    .quad 0x00cf9a000000ffff        /* 0x08: 32-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
    .quad 0x00af9a000000ffff        /* 0x18: 64-bit code */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long TRAMPOLINE + gdt - tramp_start
tramp_end:
