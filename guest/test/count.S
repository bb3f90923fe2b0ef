/* Counts from 1 to 30000, keeping the count both in r12 and in RAM at 0x200000, and reports each
   value on port 0xe9 (32-bit out). Exit 1 when it reaches the end with both copies equal; exit 2
   if they ever differ (a restore lost registers or memory). */
    .intel_syntax noprefix
    .code64
    .globl _start

    .equ COUNTER, 0x200000
    .equ LIMIT, 30000

    .text
_start:
    xor r12, r12
    mov qword ptr [COUNTER], 0
1:  inc r12
    inc qword ptr [COUNTER]
    cmp r12, qword ptr [COUNTER]
    jne 3f
    mov eax, r12d
    mov dx, 0xe9
    out dx, eax
    cmp r12, LIMIT
    jb 1b
    mov al, 1
2:  out 0xf4, al
    jmp 2b
3:  mov al, 2
    jmp 2b
