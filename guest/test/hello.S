/* Prints a line on COM1 from 64-bit code, then exits through port 0xf4 with
   1 if EFER.LMA is set (long mode active), 2 if not. */
    .intel_syntax noprefix
    .code64
    .globl _start
    .text
_start:
    lea rsi, [rip + message]        /* RIP-relative: valid only in 64-bit mode */
1:  mov al, [rsi]
    test al, al
    jz 2f
    mov dx, 0x3f8
    out dx, al
    inc rsi
    jmp 1b
2:  mov ecx, 0xc0000080             /* EFER */
    rdmsr
    mov ebx, 2
    bt eax, 10                      /* LMA */
    jnc 3f
    mov ebx, 1
3:  mov eax, ebx
    out 0xf4, al
    jmp 3b

message:
    .asciz "Hello from long mode\n"
