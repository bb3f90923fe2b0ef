/* Nexus region round trip: the guest writes a request word into the shared region at 0xe0000000,
   rings the doorbell (an ioeventfd at 0xd0100000, no exit), sleeps in hlt until the backend's
   irqfd interrupt arrives through the IOAPIC (pin 10 -> vector 0x30), then checks the reply
   word (request + 1). Exit 1 = good, 2 = wrong reply, 99 = unexpected interrupt vector. */
    .intel_syntax noprefix
    .code64
    .globl _start

    .equ REGION, 0xe0000000
    .equ DOORBELL, 0xd0100000
    .equ IDT, 0x300000
    .equ LAPIC, 0xfee00000
    .equ IOAPIC, 0xfec00000
    .equ FLAG, 0x301000

    .text
_start:
    mov al, 0xff                    /* mask both PICs: only the IOAPIC delivers */
    out 0x21, al
    out 0xa1, al

    /* IDT: every vector -> bad_irq, vector 0x30 -> good_irq. */
    xor ecx, ecx
    lea rdx, [rip + bad_irq]
1:  call set_gate
    inc ecx
    cmp ecx, 256
    jne 1b
    mov ecx, 0x30
    lea rdx, [rip + good_irq]
    call set_gate
    lea rax, [rip + idt_pointer]
    lidt [rax]

    /* Addresses above 2 GiB do not fit a 32-bit displacement: use base registers. */
    mov r8d, LAPIC
    mov r9d, IOAPIC
    mov r10d, REGION
    mov r11d, DOORBELL
    mov dword ptr [r8 + 0xf0], 0x1ff            /* software-enable the LAPIC, spurious vector 0xff */
    mov dword ptr [r9], 0x10 + 2 * 10           /* redirection entry 10, low: vector 0x30, edge, unmasked */
    mov dword ptr [r9 + 0x10], 0x30
    mov dword ptr [r9], 0x10 + 2 * 10 + 1       /* high: destination APIC 0 */
    mov dword ptr [r9 + 0x10], 0

    mov dword ptr [FLAG], 0
    mov dword ptr [r10], 0x12345678
    mov dword ptr [r11], 1

2:  cli
    cmp dword ptr [FLAG], 0
    jne 3f
    sti
    hlt
    jmp 2b

3:  cmp dword ptr [r10 + 4], 0x12345679
    jne 4f
    mov al, 1
    out 0xf4, al
4:  mov al, 2
    out 0xf4, al
    jmp 4b

/* set_gate: ecx = vector, rdx = handler; a 64-bit interrupt gate with selector 0x08. */
set_gate:
    mov rax, rcx
    shl rax, 4
    add rax, IDT
    mov word ptr [rax], dx
    mov word ptr [rax + 2], 0x08
    mov word ptr [rax + 4], 0x8e00
    mov rdi, rdx
    shr rdi, 16
    mov word ptr [rax + 6], di
    shr rdi, 16
    mov dword ptr [rax + 8], edi
    mov dword ptr [rax + 12], 0
    ret

good_irq:
    mov dword ptr [FLAG], 1
    mov dword ptr [r8 + 0xb0], 0                /* EOI (r8 holds the LAPIC base) */
    iretq

bad_irq:
    mov al, 99
    out 0xf4, al
    jmp bad_irq

idt_pointer:
    .word 256 * 16 - 1
    .quad IDT
