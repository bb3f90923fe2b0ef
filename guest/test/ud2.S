/* A guest whose first instruction is ud2, with no IDT: the #UD cannot be delivered and the CPU triple-faults. */
    .code64
    .globl _start
    .text
_start:
    ud2
