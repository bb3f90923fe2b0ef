/* Prints "bye" and asks the i8042 to reset the CPU (what Linux does with reboot=k). */
    .intel_syntax noprefix
    .code64
    .globl _start
    .text
_start:
    mov dx, 0x3f8
    mov al, 'b'
    out dx, al
    mov al, 'y'
    out dx, al
    mov al, 'e'
    out dx, al
1:  in al, 0x64                     /* wait for the input buffer to be empty (bit 1) */
    test al, 2
    jnz 1b
    mov al, 0xfe
    out 0x64, al
    mov al, 3                       /* not reached when the reset works */
    out 0xf4, al
    jmp 1b
