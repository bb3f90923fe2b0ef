/* Probes which PVM guest ABI (if any) the host's KVM offers to a guest entered in 64-bit long mode (by the VMM, or
   through PVH with the guest enabling long mode itself). It prints one "key: value" line per observed fact on COM1 and
   exits through port 0xf4 with 1 once every step ran (a step that faults is reported, not fatal: the guest installs
   its own page tables, GDT, TSS and IDT first, and every probe instruction has a fix-up address the exception
   handler resumes at).
   Steps: the CS selector and RFLAGS the guest reads (a PVM guest runs in hardware ring 3: RPL 3, IF set); CPUID
   leaves 0x40000000-0x40000002 by plain CPUID and by the PVM synthetic sequence (invlpg 0xffffffffff4d5650; cpuid);
   RDMSR of the KVM PV MSRs (0x4b564d00-07) and of every PVM MSR (0x4b564df0-ff); WRMSR of the PVM vCPU structure
   (PVCS), event entry and return-to-user MSRs; PVM hypercalls (SYSCALL at CPL 0 with RAX = 0x17088200 + n); then
   user mode (CPL 3 through IRETQ) and back: SYSCALL with LSTAR on a user page and on a supervisor-only page, the PVM
   hypercall number from user mode, #UD, INT 0x80, a user read of a supervisor page, RDMSR, CPUID and the synthetic
   sequence, an interrupt (LAPIC timer). VMCALL is not tried: kvm_pvm's emulator re-executes it forever.
   Other modes, chosen by the command line: "usercount" counts to 200,000,000 in user mode with no exit (a snapshot
   taken meanwhile holds a vCPU in user mode); "kspin" loops in supervisor mode, "usertrap" takes 20,000 #UD round
   trips from user mode, "usersyscall" 20,000 user-mode SYSCALLs to a user-mode LSTAR (timings, in TSC ticks);
   "pvlite" asks for the ABI of this host's own kvm_pvm variant, read from its machine code (docs/vmm.md): the
   signature, feature and TSC MSRs 0x4b564d10-13, hypercalls by INT 0x1b and CPUID by INT 0x1a at CPL 0, then times
   the kspin loop before and after registering a vIF page (MSR 0x4b564d10), the step after which the host runs guest
   supervisor code natively; "pvlitesnap" registers it, then spins natively for a snapshot taken mid-spin and reports
   whether the restored vCPU still runs natively.
   Built freestanding by TestGuests; asserted by PvmProbeTests and SnapshotTests. */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10
#define USER_BASE 0x18 /* STAR[63:48]: SYSRET takes SS = base + 8, CS = base + 16 */
#define SUPERVISOR_ALIAS 0xffffffff80000000UL /* the low 1 GiB again, without the user bit */
#define DONE_VECTOR 0x81                     /* a user test ends with INT 0x81 */
#define TIMER_VECTOR 0x40
#define LAPIC 0xfee00000UL

#define MSR_EFER 0xc0000080
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_FMASK 0xc0000084
#define PVM_MSR_BASE 0x4b564df0
#define MSR_PVM_VCPU_STRUCT 0x4b564df1
#define MSR_PVM_EVENT_ENTRY 0x4b564df4
#define MSR_PVM_RETU_RIP 0x4b564df5
#define PVM_HC_BASE 0x17088200
/* This host's variant ("pv-lite", docs/vmm.md): its MSRs, and its hypercalls (INT 0x1b, RAX = 0x1000 + n, arguments
   in RBX, RCX, RDX, result in RAX). */
#define MSR_PVLITE_VIF 0x4b564d10       /* vIF page GPA | flags; bit 0: CPL follows CR3 bit 12 (PTI pairs) */
#define MSR_PVLITE_SIGNATURE 0x4b564d11 /* reads 0x4d5650 ("PVM") */
#define MSR_PVLITE_FEATURES 0x4b564d12
#define MSR_PVLITE_TSC_KHZ 0x4b564d13
#define PVLITE_HC_LOAD_TR 0x1006        /* not implemented by the host: -ENOSYS */
#define PVLITE_HC_FLUSH_TLB 0x1007

struct frame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rdi, rsi, rbp, rbx, rdx, rcx, rax;
    u64 vector, err, rip, cs, rflags, rsp, ss;
};

struct trap_record {
    u64 count, vector, err, rip, cs, cr2, rcx;
};

u8 kernel_stack[16384] __attribute__((aligned(16)));
u8 trap_stack[16384] __attribute__((aligned(16)));
u8 user_stack[4096] __attribute__((aligned(16)));
/* 8 KiB-aligned: once a vIF page is registered with bit 0, the host takes CR3 bit 12 set to mean user mode. */
static u64 pml4[512] __attribute__((aligned(8192)));
static u64 pdpt_low[512] __attribute__((aligned(4096)));
static u64 pdpt_high[512] __attribute__((aligned(4096)));
static u64 pd_user[512] __attribute__((aligned(4096)));
static u64 pd_supervisor[512] __attribute__((aligned(4096)));
static u64 pd_mmio[512] __attribute__((aligned(4096)));
static u64 idt[512] __attribute__((aligned(4096)));
static u64 gdt[8] __attribute__((aligned(16)));
static u32 tss[26] __attribute__((aligned(16)));
static u8 pvcs[4096] __attribute__((aligned(4096)));
static u8 vif_page[4096] __attribute__((aligned(4096))); /* byte 0: virtual IF (0: masked), byte 1: pending */

/* Shared with the assembly below (and read from user mode: every low page is user-accessible). */
u32 entered_by_pvh;           /* started at the PVH entry, not at the 64-bit one */
u64 boot_pml4[512] __attribute__((aligned(4096)));
u64 boot_pdpt[512] __attribute__((aligned(4096)));
u64 boot_pd[512] __attribute__((aligned(4096)));
u64 fixup_rip;                /* where a fault in supervisor mode resumes; 0: none expected */
u64 kernel_saved_rsp;         /* supervisor stack while a user test runs */
u32 in_user;                  /* a user test is running */
u32 lstar_cs;                 /* CS read by the code at LSTAR */
u64 lstar_count, lstar_rcx;
u32 user_cs_seen;
u32 user_cpuid_seen[4];
u64 user_count_ram, user_count_r12;
u64 user_rflags_seen;
u64 pvm_entry_count;          /* the PVM event entry was reached */
struct trap_record last_trap; /* the last exception or interrupt taken */
volatile u64 timer_count;     /* LAPIC timer interrupts taken */
u32 timer_in_supervisor_expected;

void user_resume(void);
void trap_stubs(void);
void lstar_entry(void);
void pvm_event_entry(void);
void enter_user(void (*entry)(void), u64 rsp, u64 rflags);
void user_syscall(void);
void user_syscall_hypercall(void);
void user_ud2(void);
void user_int80(void);
void user_read_supervisor(void);
void user_rdmsr(void);
void user_read_cs(void);
void user_cpuid(void);
void user_synthetic_cpuid(void);
void user_spin(void);
void user_count(void);
void user_trap_loop(void);
void user_syscall_loop(void);
void user_lstar(void);
void fast_ud_handler(void);

__asm__(
    /* PVH entry (32-bit protected mode, paging off): the guest enters long mode itself, through the emulated
       CR0/EFER writes, then joins the 64-bit path. */
    ".pushsection .note.Xen, \"a\", @note\n"
    "  .balign 4\n"
    "  .long 4, 4, 18\n" /* name size, descriptor size, XEN_ELFNOTE_PHYS32_ENTRY */
    "  .asciz \"Xen\"\n"
    "  .long pvh_start\n"
    ".popsection\n"
    ".code32\n"
    "pvh_start:\n"
    "  movl $1, entered_by_pvh\n"
    "  mov $boot_pd, %edi\n"
    "  mov $0x83, %eax\n"
    "  mov $512, %ecx\n"
    "1: mov %eax, (%edi)\n"
    "  movl $0, 4(%edi)\n"
    "  add $0x200000, %eax\n"
    "  add $8, %edi\n"
    "  loop 1b\n"
    "  movl $boot_pd + 3, boot_pdpt\n"
    "  movl $boot_pdpt + 3, boot_pml4\n"
    "  mov $boot_pml4, %eax\n"
    "  mov %eax, %cr3\n"
    "  mov %cr4, %eax\n"
    "  or $0x20, %eax\n" /* PAE */
    "  mov %eax, %cr4\n"
    "  mov $0xc0000080, %ecx\n"
    "  rdmsr\n"
    "  or $0x100, %eax\n" /* LME */
    "  wrmsr\n"
    "  lgdt boot_gdtr\n"
    "  mov %cr0, %eax\n"
    "  or $0x80000001, %eax\n" /* PG | PE */
    "  mov %eax, %cr0\n"
    "  ljmp $0x08, $pvh_long\n"
    ".code64\n"
    "pvh_long:\n"
    "  mov $0x10, %eax\n mov %eax, %ds\n mov %eax, %es\n mov %eax, %ss\n"
    "  jmp _start\n"
    "  .align 8\n"
    "boot_gdt:\n"
    "  .quad 0, 0x00af9b000000ffff, 0x00cf93000000ffff\n"
    "boot_gdtr:\n"
    "  .word 23\n"
    "  .long boot_gdt\n"

    ".globl _start\n"
    "_start:\n"
    "  lea kernel_stack+16384(%rip), %rsp\n"
    "  call probe_main\n"
    "1: hlt\n"
    "  jmp 1b\n"

    /* Exception and interrupt stubs, 16 bytes apart: vector n at trap_stubs + 16n. */
    ".altmacro\n"
    ".macro STUB n\n"
    "  .align 16\n"
    "  .if (\\n == 8) | (\\n == 10) | (\\n == 11) | (\\n == 12) | (\\n == 13) | (\\n == 14) | (\\n == 17) | (\\n == 21) | (\\n == 29) | (\\n == 30)\n"
    "  .else\n"
    "  pushq $0\n"
    "  .endif\n"
    "  pushq $\\n\n"
    "  jmp trap_common\n"
    ".endm\n"
    "  .align 16\n"
    ".globl trap_stubs\n"
    "trap_stubs:\n"
    "  .set vec, 0\n"
    "  .rept 256\n"
    "  STUB %vec\n"
    "  .set vec, vec + 1\n"
    "  .endr\n"
    ".noaltmacro\n"

    "trap_common:\n"
    "  push %rax\n push %rcx\n push %rdx\n push %rbx\n push %rbp\n push %rsi\n push %rdi\n"
    "  push %r8\n push %r9\n push %r10\n push %r11\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "  mov %rsp, %rdi\n"
    "  cld\n"
    "  call trap\n"
    "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %r11\n pop %r10\n pop %r9\n pop %r8\n"
    "  pop %rdi\n pop %rsi\n pop %rbp\n pop %rbx\n pop %rdx\n pop %rcx\n pop %rax\n"
    "  add $16, %rsp\n"
    "  iretq\n"

    /* enter_user(entry, rsp, rflags): IRETQ to CPL 3; user_resume returns from it when the trap handler ends the test. */
    ".globl enter_user\n"
    "enter_user:\n"
    "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "  mov %rsp, kernel_saved_rsp(%rip)\n"
    "  movl $1, in_user(%rip)\n"
    "  pushq $0x23\n"
    "  push %rsi\n"
    "  push %rdx\n"
    "  pushq $0x2b\n"
    "  push %rdi\n"
    "  iretq\n"
    ".globl user_resume\n"
    "user_resume:\n"
    "  mov kernel_saved_rsp(%rip), %rsp\n"
    "  movl $0, in_user(%rip)\n"
    "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "  ret\n"

    /* LSTAR: records where SYSCALL arrived. At CPL 0 from a supervisor SYSCALL it returns to RCX with R11's flags;
       at CPL 0 from user mode it ends the user test; at CPL 3 (SYSCALL did not leave user mode) it can only
       trap out. */
    ".globl lstar_entry\n"
    "lstar_entry:\n"
    "  mov %rcx, lstar_rcx(%rip)\n"
    "  mov %cs, %eax\n"
    "  mov %eax, lstar_cs(%rip)\n"
    "  incq lstar_count(%rip)\n"
    "  test $3, %al\n"
    "  jnz 1f\n"
    "  cmpl $0, in_user(%rip)\n"
    "  jne user_resume\n"
    "  push %r11\n"
    "  popfq\n"
    "  jmp *%rcx\n"
    "1: int $0x81\n"

    /* The PVM event entry (if the host ever delivers to it): count and stop, the frame format is not known. */
    ".globl pvm_event_entry\n"
    "  .align 4096\n"
    "pvm_event_entry:\n"
    "  incq pvm_entry_count(%rip)\n"
    "  mov $0x3f8, %dx\n mov $'E', %al\n out %al, %dx\n"
    "  mov $0xe0, %al\n out %al, $0xf4\n"
    "2: jmp 2b\n"

    /* User tests: each ends with INT 0x81 unless an event ends it first. */
    ".globl user_syscall\n"
    "user_syscall:\n"
    "  mov $39, %eax\n syscall\n int $0x81\n"
    ".globl user_syscall_hypercall\n"
    "user_syscall_hypercall:\n"
    "  mov $0x17088201, %eax\n syscall\n int $0x81\n"
    ".globl user_ud2\n"
    "user_ud2:\n"
    "  ud2\n"
    ".globl user_int80\n"
    "user_int80:\n"
    "  int $0x80\n"
    ".globl user_read_supervisor\n"
    "user_read_supervisor:\n"
    "  movabs $0xffffffff80100000, %rax\n mov (%rax), %rax\n int $0x81\n"
    ".globl user_rdmsr\n"
    "user_rdmsr:\n"
    "  mov $0x4b564df0, %ecx\n rdmsr\n int $0x81\n"
    ".globl user_read_cs\n"
    "user_read_cs:\n"
    "  mov %cs, %eax\n mov %eax, user_cs_seen(%rip)\n pushfq\n popq user_rflags_seen(%rip)\n int $0x81\n"
    ".globl user_cpuid\n"
    "user_cpuid:\n"
    "  mov $0x40000000, %eax\n xor %ecx, %ecx\n cpuid\n"
    "  mov %eax, user_cpuid_seen(%rip)\n mov %ebx, user_cpuid_seen+4(%rip)\n int $0x81\n"
    ".globl user_synthetic_cpuid\n"
    "user_synthetic_cpuid:\n"
    "  mov $0x40000000, %eax\n xor %ecx, %ecx\n .byte 0x0f,0x01,0x3c,0x25,0x50,0x56,0x4d,0xff\n cpuid\n"
    "  mov %eax, user_cpuid_seen(%rip)\n mov %ebx, user_cpuid_seen+4(%rip)\n int $0x81\n"
    /* Spins with interrupts enabled until the LAPIC timer fires (or gives up: UD2). */
    ".globl user_spin\n"
    "user_spin:\n"
    "  mov $400000000, %ecx\n"
    "3: dec %ecx\n jnz 3b\n ud2\n"
    /* The "usertrap" mode: 20,000 UD2s from user mode, each handled by fast_ud_handler (2 supervisor instructions:
       skip the UD2, IRETQ), then RDMSR (#GP) ends the test. */
    ".globl user_trap_loop\n"
    "user_trap_loop:\n"
    "  mov $20000, %ecx\n"
    "6: ud2\n"
    "  dec %ecx\n"
    "  jnz 6b\n"
    "  rdmsr\n"
    /* The "usersyscall" mode: 20,000 SYSCALLs from user mode to user_lstar, a user page that jumps back to RCX. */
    ".globl user_syscall_loop\n"
    "user_syscall_loop:\n"
    "  mov $20000, %r12d\n"
    "7: syscall\n"
    "  dec %r12d\n"
    "  jnz 7b\n"
    "  rdmsr\n"
    ".globl user_lstar\n"
    "user_lstar:\n"
    "  jmp *%rcx\n"
    ".globl fast_ud_handler\n"
    "fast_ud_handler:\n"
    "  addq $2, (%rsp)\n"
    "  iretq\n"
    /* The "usercount" mode: counts to USER_COUNT_LIMIT in user mode in R12 and in RAM, with no exit on the way
       (so a snapshot taken meanwhile finds the vCPU in user mode), then stores R12 and traps out with UD2. */
    ".globl user_count\n"
    "user_count:\n"
    "  xor %r12, %r12\n"
    "  movq $0, user_count_ram(%rip)\n"
    "4: inc %r12\n"
    "  incq user_count_ram(%rip)\n"
    "  cmp user_count_ram(%rip), %r12\n"
    "  jne 5f\n"
    "  cmp $200000000, %r12\n"
    "  jb 4b\n"
    "5: mov %r12, user_count_r12(%rip)\n"
    "  ud2\n");

static void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }

static void putc(char c) { outb(0x3f8, (u8)c); }

static void puts(const char *s)
{
    while (*s) {
        putc(*s++);
    }
}

static void puthex(u64 v)
{
    puts("0x");
    int started = 0;
    for (int shift = 60; shift >= 0; shift -= 4) {
        int d = (int)((v >> shift) & 0xf);
        if (d || started || shift == 0) {
            putc((char)(d < 10 ? '0' + d : 'a' + d - 10));
            started = 1;
        }
    }
}

static void line(const char *key, u64 v)
{
    puts(key);
    puts(": ");
    puthex(v);
    putc('\n');
}

static void exit_with(u8 code)
{
    for (;;) {
        outb(0xf4, code);
    }
}

static u64 rdtsc(void)
{
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}

static u64 read_cr2(void)
{
    u64 v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

void trap(struct frame *f)
{
    last_trap.count++;
    last_trap.vector = f->vector;
    last_trap.err = f->err;
    last_trap.rip = f->rip;
    last_trap.cs = f->cs;
    last_trap.cr2 = f->vector == 14 ? read_cr2() : 0;
    last_trap.rcx = f->rcx;
    if (f->vector == TIMER_VECTOR) {
        *(volatile u32 *)(LAPIC + 0xb0) = 0; /* EOI */
        timer_count++;
        if ((f->cs & 3) != 3 && timer_in_supervisor_expected) {
            return; /* the pvlitehalt mode's timer: counted, resumed */
        }
    }
    if ((f->cs & 3) == 3) {
        /* From user mode: end the user test, back to the supervisor code that started it. */
        f->rip = (u64)user_resume;
        f->cs = KERNEL_CS;
        f->ss = KERNEL_DS;
        f->rsp = kernel_saved_rsp;
        f->rflags = 0x2;
        return;
    }
    if (fixup_rip) {
        f->rip = fixup_rip;
        fixup_rip = 0;
        return;
    }
    line("unexpected trap vector", f->vector);
    line("unexpected trap rip", f->rip);
    line("unexpected trap err", f->err);
    line("unexpected trap cs", f->cs);
    exit_with(0x7f);
}

/* RDMSR with a fix-up: returns the vector it faulted with, or -1 and the value. */
static int rdmsr_safe(u32 msr, u64 *value)
{
    u32 lo = 0, hi = 0;
    u64 before = last_trap.count;
    __asm__ volatile("leaq 1f(%%rip), %%r8\n movq %%r8, fixup_rip(%%rip)\n rdmsr\n 1: movq $0, fixup_rip(%%rip)"
                     : "+a"(lo), "+d"(hi)
                     : "c"(msr)
                     : "r8", "memory");
    *value = ((u64)hi << 32) | lo;
    return last_trap.count != before ? (int)last_trap.vector : -1;
}

static int wrmsr_safe(u32 msr, u64 value)
{
    u64 before = last_trap.count;
    __asm__ volatile("leaq 1f(%%rip), %%r8\n movq %%r8, fixup_rip(%%rip)\n wrmsr\n 1: movq $0, fixup_rip(%%rip)"
                     :
                     : "c"(msr), "a"((u32)value), "d"((u32)(value >> 32))
                     : "r8", "memory");
    return last_trap.count != before ? (int)last_trap.vector : -1;
}

static void wrmsr(u32 msr, u64 value)
{
    if (wrmsr_safe(msr, value) >= 0) {
        line("fatal: wrmsr faulted", msr);
        exit_with(0x7e);
    }
}

static u64 rdmsr(u32 msr)
{
    u64 v;
    if (rdmsr_safe(msr, &v) >= 0) {
        line("fatal: rdmsr faulted", msr);
        exit_with(0x7d);
    }
    return v;
}

static void cpuid(u32 leaf, u32 r[4], int synthetic)
{
    if (synthetic) {
        __asm__ volatile(".byte 0x0f,0x01,0x3c,0x25,0x50,0x56,0x4d,0xff\n cpuid"
                         : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                         : "a"(leaf), "c"(0));
    } else {
        __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
    }
}

static void report_cpuid(const char *how, int synthetic)
{
    for (u32 leaf = 0x40000000; leaf <= 0x40000002; leaf++) {
        u32 r[4];
        cpuid(leaf, r, synthetic);
        puts(how);
        puts(" cpuid ");
        puthex(leaf);
        puts(": ");
        for (int i = 0; i < 4; i++) {
            puthex(r[i]);
            putc(' ');
        }
        if (leaf == 0x40000000) {
            putc('"');
            for (int i = 1; i < 4; i++) {
                for (int b = 0; b < 4; b++) {
                    char c = (char)(r[i] >> (8 * b));
                    putc(c >= 0x20 && c < 0x7f ? c : '.');
                }
            }
            putc('"');
        }
        putc('\n');
    }
}

static void set_gate(int vector, u64 handler, int dpl)
{
    idt[2 * vector] = (handler & 0xffff) | ((u64)KERNEL_CS << 16) | ((u64)(0x8e | (dpl << 5)) << 40)
                      | ((handler & 0xffff0000UL) << 32);
    idt[(2 * vector) + 1] = handler >> 32;
}

/* Own page tables (the low 1 GiB identity-mapped with the user bit, and again supervisor-only at the top), GDT
   with user segments, a TSS whose RSP0 is the trap stack, and an IDT covering every vector. */
static void install_tables(void)
{
    for (u64 i = 0; i < 512; i++) {
        pd_user[i] = (i << 21) | 0x87;       /* present, writable, user, 2 MiB */
        pd_supervisor[i] = (i << 21) | 0x83; /* present, writable, 2 MiB */
    }
    pdpt_low[0] = (u64)pd_user | 0x07;
    for (u64 i = 0; i < 512; i++) {
        pd_mmio[i] = (0xc0000000UL + (i << 21)) | 0x93; /* 3-4 GiB (the LAPIC): present, writable, uncached */
    }
    pdpt_low[3] = (u64)pd_mmio | 0x03;
    pdpt_high[510] = (u64)pd_supervisor | 0x03;
    pml4[0] = (u64)pdpt_low | 0x07;
    pml4[511] = (u64)pdpt_high | 0x03;
    __asm__ volatile("mov %0, %%cr3" : : "r"((u64)pml4) : "memory");
    puts("step: own page tables loaded\n");

    u64 tss_base = (u64)tss;
    *(u64 *)&tss[1] = (u64)trap_stack + sizeof trap_stack; /* RSP0 */
    tss[25] = 104u << 16;                                 /* no I/O bitmap */
    gdt[0] = 0;
    gdt[1] = 0x00af9b000000ffffUL; /* kernel code, 64-bit */
    gdt[2] = 0x00cf93000000ffffUL; /* kernel data */
    gdt[3] = 0x00cffb000000ffffUL; /* user code, 32-bit (SYSRET layout) */
    gdt[4] = 0x00cff3000000ffffUL; /* user data */
    gdt[5] = 0x00affb000000ffffUL; /* user code, 64-bit */
    gdt[6] = 103 | ((tss_base & 0xffffff) << 16) | (0x89UL << 40) | ((tss_base >> 24 & 0xff) << 56);
    gdt[7] = tss_base >> 32;
    struct {
        u16 limit;
        u64 base;
    } __attribute__((packed)) gdtr = { sizeof gdt - 1, (u64)gdt }, idtr = { sizeof idt - 1, (u64)idt };
    __asm__ volatile("lgdt %0\n"
                     "pushq $0x08\n leaq 1f(%%rip), %%rax\n pushq %%rax\n lretq\n"
                     "1: mov $0x10, %%eax\n mov %%eax, %%ds\n mov %%eax, %%es\n mov %%eax, %%ss\n"
                     "mov $0x30, %%eax\n ltr %%ax"
                     :
                     : "m"(gdtr)
                     : "rax", "memory");
    puts("step: own GDT and TSS loaded\n");
    for (int v = 0; v < 256; v++) {
        set_gate(v, (u64)trap_stubs + (16 * (u64)v), v == 0x80 || v == DONE_VECTOR ? 3 : 0);
    }
    __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
    puts("step: IDT loaded\n");
}

static void report_msr(u32 msr)
{
    u64 v;
    int vector = rdmsr_safe(msr, &v);
    puts("rdmsr ");
    puthex(msr);
    if (vector >= 0) {
        puts(": fault ");
        puthex((u64)vector);
    } else {
        puts(": ");
        puthex(v);
    }
    putc('\n');
}

static void report_wrmsr(const char *name, u32 msr, u64 value)
{
    int vector = wrmsr_safe(msr, value);
    puts("wrmsr ");
    puts(name);
    puts(": ");
    if (vector >= 0) {
        puts("fault ");
        puthex((u64)vector);
    } else {
        puts("ok");
    }
    putc('\n');
}

/* SYSCALL at CPL 0 with RAX = nr: a PVM hypercall returns directly; a plain x86 SYSCALL arrives at LSTAR. */
static void report_syscall(const char *name, u64 nr)
{
    u64 traps = last_trap.count, lstars = lstar_count, rax = nr;
    __asm__ volatile("leaq 1f(%%rip), %%r8\n movq %%r8, fixup_rip(%%rip)\n syscall\n 1: movq $0, fixup_rip(%%rip)"
                     : "+a"(rax)
                     :
                     : "rcx", "r11", "r8", "r9", "r10", "rdi", "rsi", "rdx", "memory");
    puts(name);
    puts(": ");
    if (last_trap.count != traps) {
        puts("fault ");
        puthex(last_trap.vector);
    } else if (lstar_count != lstars) {
        puts("arrived at LSTAR, cs ");
        puthex(lstar_cs);
    } else {
        puts("returned rax ");
        puthex(rax);
    }
    putc('\n');
}

/* Runs one user test and reports how it came back: the vector, the CS it was taken from, RIP and CR2. */
static void report_user_flags(const char *name, void (*entry)(void), u64 rflags)
{
    u64 traps = last_trap.count, lstars = lstar_count;
    enter_user(entry, (u64)user_stack + sizeof user_stack, rflags);
    puts("user ");
    puts(name);
    puts(": ");
    if (lstar_count != lstars) {
        puts("arrived at LSTAR cs ");
        puthex(lstar_cs);
        puts(" rcx ");
        puthex(lstar_rcx);
        puts("; ");
    }
    if (last_trap.count != traps) {
        puts("vector ");
        puthex(last_trap.vector);
        puts(" from cs ");
        puthex(last_trap.cs);
        puts(" rip ");
        puthex(last_trap.rip);
        puts(" err ");
        puthex(last_trap.err);
        puts(" cr2 ");
        puthex(last_trap.cr2);
        puts(" rcx ");
        puthex(last_trap.rcx);
    } else {
        puts("returned without a trap");
    }
    putc('\n');
}

/* Whether the command line (the VMM puts it at 0x20000 for both entries) starts with prefix. */
static int cmdline_starts(const char *prefix)
{
    const char *c = (const char *)0x20000;
    while (*prefix) {
        if (*c++ != *prefix++) {
            return 0;
        }
    }
    return 1;
}

/* Whether the command line's first word is word ("pvlite" must not match "pvlitesnap"). */
static int cmdline_is(const char *word)
{
    u64 n = 0;
    while (word[n]) {
        n++;
    }
    const char *end = (const char *)0x20000 + n;
    return cmdline_starts(word) && (*end == 0 || *end == ' ');
}

static void report_user(const char *name, void (*entry)(void)) { report_user_flags(name, entry, 0x2); }

static void lapic_write(u32 reg, u32 value) { *(volatile u32 *)(LAPIC + reg) = value; }

static void report_cpuid_seen(const char *name)
{
    puts(name);
    puts(": ");
    puthex(user_cpuid_seen[0]);
    putc(' ');
    puthex(user_cpuid_seen[1]);
    putc('\n');
}

/* 2,000,000 iterations of DEC/JNZ at CPL 0 (variant 'i': IF set; 'h': from the supervisor-only alias in the kernel
   half; otherwise IF clear), to time supervisor code against user code. Returns TSC ticks. */
static u64 kspin_ticks(char variant)
{
    u64 start = rdtsc();
    u64 n = 2000000, flags = variant == 'i' ? 0x202 : 0x2, offset = variant == 'h' ? SUPERVISOR_ALIAS : 0;
    __asm__ volatile("lea 1f(%%rip), %%rax\n add %1, %%rax\n push %2\n popfq\n jmp *%%rax\n"
                     "1: dec %%rcx\n jnz 1b\n cli"
                     : "+c"(n)
                     : "r"(offset), "r"(flags)
                     : "rax", "memory", "cc");
    return rdtsc() - start;
}

/* A pv-lite hypercall: INT 0x1b at CPL 0 with RAX = nr. The host answers it in RAX; a host that does not know it lets
   it reach the guest's own IDT (vector 0x1b), reported as a fault. */
static void report_pvlite_hypercall(const char *name, u64 nr)
{
    u64 traps = last_trap.count, rax = nr;
    __asm__ volatile("leaq 1f(%%rip), %%r8\n movq %%r8, fixup_rip(%%rip)\n int $0x1b\n 1: movq $0, fixup_rip(%%rip)"
                     : "+a"(rax)
                     : "b"(0UL), "c"(0UL), "d"(0UL)
                     : "r8", "memory");
    puts(name);
    puts(": ");
    if (last_trap.count != traps) {
        puts("fault ");
        puthex(last_trap.vector);
    } else {
        puts("returned rax ");
        puthex(rax);
    }
    putc('\n');
}

/* The pv-lite CPUID: INT 0x1a with EAX = leaf, ECX = 0, answered in EAX..EDX from the VMM's CPUID table. */
static void report_pvlite_cpuid(u32 leaf)
{
    u64 traps = last_trap.count;
    u32 r[4] = { leaf, 0, 0, 0 };
    __asm__ volatile("leaq 1f(%%rip), %%r8\n movq %%r8, fixup_rip(%%rip)\n int $0x1a\n 1: movq $0, fixup_rip(%%rip)"
                     : "+a"(r[0]), "+b"(r[1]), "+c"(r[2]), "+d"(r[3])
                     :
                     : "r8", "memory");
    puts("int 0x1a cpuid ");
    puthex(leaf);
    puts(": ");
    if (last_trap.count != traps) {
        puts("fault ");
        puthex(last_trap.vector);
    } else {
        for (int i = 0; i < 4; i++) {
            puthex(r[i]);
            putc(' ');
        }
    }
    putc('\n');
}

/* What a Linux guest needs to know once the vIF page is registered (bit 0 only): whether supervisor code runs
   natively from a page without the user bit; what PUSHF reads; whether a supervisor exception (UD2) comes back through
   the guest's own IRETQ and what it leaves in the vIF byte; the cost of a trapped privileged instruction (MOV from
   CR3) against the CR3 hypercall. */
static void pvlite_after_vif(void)
{
    volatile u8 *vif = vif_page;
    u64 flags, t, cr3;
    __asm__ volatile("pushfq\n pop %0" : "=r"(flags));
    line("rflags after vif", flags);
    line("vif byte 0", vif[0]);
    vif[0] = 1;
    u64 before = last_trap.count;
    t = rdtsc();
    __asm__ volatile("leaq 1f(%%rip), %%r8\n movq %%r8, fixup_rip(%%rip)\n ud2\n 1: movq $0, fixup_rip(%%rip)" : : : "r8", "memory");
    t = rdtsc() - t;
    line("supervisor ud2: traps", last_trap.count - before);
    line("supervisor ud2: vector", last_trap.vector);
    line("supervisor ud2: frame cs", last_trap.cs);
    line("supervisor ud2: round trip TSC ticks", t);
    line("vif byte 0 after ud2 (was 1)", vif[0]);
    vif[0] = 0;
    t = rdtsc();
    for (int i = 0; i < 100; i++) {
        __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    }
    line("100x mov from cr3: TSC ticks", rdtsc() - t);
    line("cr3", cr3);
    t = rdtsc();
    for (int i = 0; i < 100; i++) {
        u64 rax = 0x1001;
        __asm__ volatile("int $0x1b" : "+a"(rax) : "b"(cr3), "c"(0UL), "d"(0UL) : "memory");
    }
    line("100x SET_CR3 hypercall: TSC ticks", rdtsc() - t);
    t = rdtsc();
    u64 gs = 0;
    __asm__ volatile("swapgs\n swapgs" ::: "memory");
    line("swapgs pair: TSC ticks", rdtsc() - t);
    (void)gs;
    /* An IRETQ to the same (supervisor) level. */
    before = last_trap.count;
    t = rdtsc();
    __asm__ volatile("mov %%rsp, %%rax\n pushq $0x10\n pushq %%rax\n pushfq\n pushq $0x08\n leaq 1f(%%rip), %%rax\n pushq %%rax\n iretq\n 1:"
                     ::: "rax", "memory");
    line("iretq to supervisor: TSC ticks", rdtsc() - t);
    line("iretq to supervisor: traps", last_trap.count - before);
    /* Not run: kspin_ticks('h'), the loop on the supervisor-only alias (no user bit at any level). Measured once
       (December 2026): after the registration the vCPU never gets past such a page (stopped at the VM's timeout),
       while the same alias with the user bit set at every level runs at native speed; so a pv-lite kernel maps
       everything with the user bit (docs/vmm.md). */
}

/* The "pvlite" mode: this host's own variant's ABI, then kspin before and after the vIF page is registered (the
   host runs supervisor code natively only with one). Every step reports; none is fatal. */
static void probe_pvlite(void)
{
    for (u32 msr = MSR_PVLITE_VIF; msr <= MSR_PVLITE_TSC_KHZ; msr++) {
        report_msr(msr);
    }
    report_pvlite_cpuid(0x40000000);
    report_pvlite_hypercall("int 0x1b PVLITE_HC_LOAD_TR", PVLITE_HC_LOAD_TR);
    report_pvlite_hypercall("int 0x1b PVLITE_HC_FLUSH_TLB", PVLITE_HC_FLUSH_TLB);
    line("kspin before vif: 4000000 instructions, TSC ticks", kspin_ticks(0));
    report_wrmsr("MSR_PVLITE_VIF", MSR_PVLITE_VIF, (u64)vif_page | 1);
    report_msr(MSR_PVLITE_VIF);
    u64 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    line("cs after vif", cs & 0xffff);
    line("kspin after vif: 4000000 instructions, TSC ticks", kspin_ticks(0));
    pvlite_after_vif();
    puts("done\n");
}

/* The "pvlitesnap" mode: registers the vIF page, says so, then spins natively at CPL 0 long enough (~1 s) for the host
   to snapshot it mid-spin; after the spin it reports the vIF MSR, CS and a kspin, which show whether the vCPU still
   runs its supervisor code natively (a restore that lost the vIF registration emulates it again: CS 0x8, kspin ~1000x
   slower). */
static void probe_pvlite_snapshot(void)
{
    if (wrmsr_safe(MSR_PVLITE_VIF, (u64)vif_page | 1) >= 0) { /* faulted: the vector */
        puts("pvlitesnap: no pv-lite host\n");
        exit_with(3);
    }
    puts("pvlitesnap: started\n");
    u64 n = 3000000000UL;
    __asm__ volatile("1: dec %0\n jnz 1b" : "+r"(n) : : "cc");
    line("pvlitesnap: spun, left", n);
    report_msr(MSR_PVLITE_VIF);
    u64 cs;
    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    line("cs after spin", cs & 0xffff);
    line("kspin after spin: 4000000 instructions, TSC ticks", kspin_ticks(0));
    puts("done\n");
}

static u64 pvlite_hypercall(u64 nr)
{
    u64 rax = nr;
    __asm__ volatile("int $0x1b" : "+a"(rax) : "b"(0UL), "c"(0UL), "d"(0UL) : "memory");
    return rax;
}

static void arm_timer(u32 count)
{
    lapic_write(0xf0, 0x1ff);         /* software enable, spurious vector 0xff */
    lapic_write(0x3e0, 0xb);          /* divide by 1 */
    lapic_write(0x320, TIMER_VECTOR); /* one-shot */
    lapic_write(0x380, count);
}

/* Spins up to n iterations or until a timer interrupt arrives; returns the iterations left. */
static u64 spin_for_timer(u64 before, u64 n)
{
    while (n && timer_count == before) {
        n--;
        __asm__ volatile("" ::: "memory");
    }
    return n;
}

/* The "pvlitehalt" mode: how interrupts and halting work for a vIF-registered guest (the freestanding runtime guest
   and a Linux guest need this): whether CLI/STI fault or are handled, whether the LAPIC timer is delivered with vIF
   byte 0 set and held with it clear (and byte 1 then set, the doorbell OUT 0x80 delivering it), and what the HALT
   hypercall does with byte 0 clear and set. */
static void probe_pvlite_halt(void)
{
    volatile u8 *vif = vif_page;
    vif[0] = 0;
    if (wrmsr_safe(MSR_PVLITE_VIF, (u64)vif_page | 1) >= 0) {
        puts("pvlitehalt: no pv-lite host\n");
        exit_with(3);
    }
    timer_in_supervisor_expected = 1;

    /* What an exit costs natively: 10,000 writes to an unclaimed port (each a KVM_EXIT_IO to the VMM) and 10,000 reads
       of the LAPIC version register (emulated MMIO, answered in the kernel). */
    u64 t = rdtsc();
    for (int i = 0; i < 10000; i++) {
        __asm__ volatile("outb %%al, $0xe9" : : "a"(0));
    }
    line("10000 port writes to the VMM, TSC ticks", rdtsc() - t);
    t = rdtsc();
    for (int i = 0; i < 10000; i++) {
        (void)*(volatile u32 *)(LAPIC + 0x30);
    }
    line("10000 LAPIC MMIO reads, TSC ticks", rdtsc() - t);

    u64 traps = last_trap.count, t0 = rdtsc();
    __asm__ volatile("leaq 1f(%%rip), %%r8\n movq %%r8, fixup_rip(%%rip)\n cli\n 1: movq $0, fixup_rip(%%rip)" ::: "r8", "memory");
    line("cli: ticks", rdtsc() - t0);
    line("cli: faulted with vector (0xffff: no)", last_trap.count != traps ? last_trap.vector : 0xffff);
    traps = last_trap.count;
    __asm__ volatile("leaq 1f(%%rip), %%r8\n movq %%r8, fixup_rip(%%rip)\n sti\n nop\n 1: movq $0, fixup_rip(%%rip)" ::: "r8", "memory");
    line("sti: faulted with vector (0xffff: no)", last_trap.count != traps ? last_trap.vector : 0xffff);
    u64 flags;
    __asm__ volatile("pushfq; pop %0" : "=r"(flags));
    line("rflags after sti", flags);

    u64 before = timer_count;
    vif[0] = 1;
    arm_timer(1000000);
    line("timer, vif 1: spins left (0: not delivered)", spin_for_timer(before, 2000000000UL));
    line("timer, vif 1: timer_count", timer_count);

    before = timer_count;
    vif[0] = 0;
    arm_timer(1000000);
    line("timer, vif 0: spins left (0: not delivered)", spin_for_timer(before, 300000000UL));
    line("timer, vif 0: pending byte", vif[1]);
    vif[0] = 1;
    if (vif[1]) {
        __asm__ volatile("outb %%al, $0x80" : : "a"(0) : "memory");
    }
    line("timer, vif 0 then 1 + doorbell: delivered", timer_count != before);
    spin_for_timer(before, 100000000UL);
    line("timer, vif 0 then 1: delivered after spinning", timer_count != before);

    before = timer_count;
    vif[0] = 0;
    arm_timer(10000000);
    t0 = rdtsc();
    u64 rax = pvlite_hypercall(0x1009);
    line("halt, vif 0: rax", rax);
    line("halt, vif 0: ticks", rdtsc() - t0);
    line("halt, vif 0: timer delivered before return", timer_count != before);
    line("halt, vif 0: pending byte", vif[1]);
    vif[0] = 1;
    if (vif[1]) {
        __asm__ volatile("outb %%al, $0x80" : : "a"(0) : "memory");
    }
    line("halt, vif 0: delivered after vif 1 + doorbell", timer_count != before);

    /* HALT with vIF 0, five rounds: does it sleep until the (masked) timer is pending, then return without
       delivering it (the atomic "sti; hlt" a guest needs), or return early? */
    for (int round = 0; round < 5; round++) {
        before = timer_count;
        vif[0] = 0;
        arm_timer(round & 1 ? 20000000 : 5000000);
        t0 = rdtsc();
        pvlite_hypercall(0x1009);
        u64 ticks = rdtsc() - t0;
        u8 pending = vif[1];
        u64 delivered = timer_count != before;
        vif[0] = 1;
        if (vif[1]) {
            __asm__ volatile("outb %%al, $0x80" : : "a"(0) : "memory");
        }
        puts("halt round, vif 0, timer ");
        puts(round & 1 ? "20M" : "5M");
        line(": ticks", ticks);
        line("  pending at return", pending);
        line("  delivered before return", delivered);
        line("  delivered after vif 1 + doorbell", timer_count != before);
        spin_for_timer(before, 200000000UL);
    }

    before = timer_count;
    vif[0] = 1;
    arm_timer(10000000);
    t0 = rdtsc();
    rax = pvlite_hypercall(0x1009);
    line("halt, vif 1: rax", rax);
    line("halt, vif 1: ticks", rdtsc() - t0);
    line("halt, vif 1: timer delivered before return", timer_count != before);
    puts("done\n");
}

void probe_main(void)
{
    u64 cs, flags;
    __asm__ volatile("mov %%cs, %0\n pushfq\n pop %1" : "=r"(cs), "=r"(flags));
    puts("pvm probe\n");
    puts(entered_by_pvh ? "entry: pvh, long mode entered by the guest\n" : "entry: 64-bit, long mode set by the VMM\n");
    line("cs", cs & 0xffff);
    line("rflags", flags);
    report_cpuid("plain", 0);
    report_cpuid("synthetic", 1);

    install_tables();
    if (cmdline_starts("kspin")) { /* kspin, or kspini / kspinh: the variant letter at 0x20005 */
        line("kspin: 4000000 instructions, TSC ticks", kspin_ticks(*(const char *)0x20005));
        exit_with(1);
    }
    if (cmdline_is("pvlite")) {
        probe_pvlite();
        exit_with(1);
    }
    if (cmdline_is("pvlitehalt")) {
        probe_pvlite_halt();
        exit_with(1);
    }
    if (cmdline_is("pvlitesnap")) {
        probe_pvlite_snapshot();
        exit_with(1);
    }
    if (cmdline_is("usertrap")) {
        set_gate(6, (u64)fast_ud_handler, 0);
        u64 start = rdtsc();
        enter_user(user_trap_loop, (u64)user_stack + sizeof user_stack, 0x2);
        line("usertrap: 20000 round trips, TSC ticks", rdtsc() - start);
        exit_with(last_trap.vector == 13 ? 1 : 3);
    }
    if (cmdline_is("usersyscall")) {
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1); /* SCE */
        wrmsr(MSR_STAR, ((u64)USER_BASE << 48) | ((u64)KERNEL_CS << 32));
        wrmsr(MSR_LSTAR, (u64)user_lstar);
        wrmsr(MSR_FMASK, 0);
        u64 start = rdtsc();
        enter_user(user_syscall_loop, (u64)user_stack + sizeof user_stack, 0x2);
        line("usersyscall: 20000 round trips, TSC ticks", rdtsc() - start);
        exit_with(last_trap.vector == 13 ? 1 : 3);
    }
    if (cmdline_is("usercount")) {
        puts("usercount: started\n");
        enter_user(user_count, (u64)user_stack + sizeof user_stack, 0x2);
        line("usercount: ended by vector", last_trap.vector);
        line("usercount: r12", user_count_r12);
        line("usercount: ram", user_count_ram);
        exit_with(last_trap.vector == 6 && user_count_r12 == 200000000 && user_count_ram == 200000000 ? 1 : 3);
    }

    for (u32 msr = 0x4b564d00; msr <= 0x4b564d07; msr++) {
        report_msr(msr);
    }
    for (u32 msr = PVM_MSR_BASE; msr <= PVM_MSR_BASE + 0xf; msr++) {
        report_msr(msr);
    }
    report_wrmsr("MSR_PVM_VCPU_STRUCT", MSR_PVM_VCPU_STRUCT, (u64)pvcs);
    report_wrmsr("MSR_PVM_EVENT_ENTRY", MSR_PVM_EVENT_ENTRY, (u64)pvm_event_entry);
    report_wrmsr("MSR_PVM_RETU_RIP", MSR_PVM_RETU_RIP, (u64)user_resume);

    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1); /* SCE */
    wrmsr(MSR_STAR, ((u64)USER_BASE << 48) | ((u64)KERNEL_CS << 32));
    wrmsr(MSR_LSTAR, (u64)lstar_entry);
    wrmsr(MSR_FMASK, 0);
    line("efer", rdmsr(MSR_EFER));
    report_syscall("hypercall PVM_HC_IRQ_WIN", PVM_HC_BASE + 1);
    report_syscall("hypercall PVM_HC_TLB_FLUSH_CURRENT", PVM_HC_BASE + 4);
    report_syscall("supervisor syscall 39", 39);

    report_user("read cs", user_read_cs);
    line("user cs", user_cs_seen);
    line("user rflags", user_rflags_seen);
    report_user("syscall, LSTAR on a user page", user_syscall);
    wrmsr(MSR_LSTAR, SUPERVISOR_ALIAS + (u64)lstar_entry);
    report_user("syscall, LSTAR on a supervisor page", user_syscall);
    report_user("syscall RAX=PVM_HC_IRQ_WIN", user_syscall_hypercall);
    report_user("ud2", user_ud2);
    report_user("int 0x80", user_int80);
    report_user("read of a supervisor page", user_read_supervisor);
    report_user("rdmsr", user_rdmsr);
    user_cpuid_seen[0] = user_cpuid_seen[1] = 0;
    report_user("cpuid", user_cpuid);
    report_cpuid_seen("user cpuid 0x40000000");
    user_cpuid_seen[0] = user_cpuid_seen[1] = 0;
    report_user("synthetic cpuid", user_synthetic_cpuid);
    report_cpuid_seen("user synthetic cpuid 0x40000000");

    /* An interrupt while user code runs with IF set: the LAPIC timer, one-shot. */
    lapic_write(0xf0, 0x1ff);          /* software enable, spurious vector 0xff */
    lapic_write(0x3e0, 0xb);           /* divide by 1 */
    lapic_write(0x320, TIMER_VECTOR);  /* one-shot */
    lapic_write(0x380, 1000000);       /* initial count */
    report_user_flags("spin with IF set, LAPIC timer armed", user_spin, 0x202);
    line("pvm event entry reached", pvm_entry_count);
    puts("done\n");
    exit_with(1);
}
