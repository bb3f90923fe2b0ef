/* A freestanding function runtime for the microvm driver: speaks the Nexus channel protocol (docs/channel.md, layout
   version 2) over the Nexus region exactly as the Python runtime does, with no Linux underneath. It stands in for
   kernel + runtime + handler until a Linux guest can run user space here (docs/vmm.md).

   Start: sets up an IDT, the LAPIC and IOAPIC pin 10 (the region's GSI) -> vector 0x30. If the region holds no channel
   yet (its header is zero: a boot for a snapshot), it rings the doorbell once ("ready") and sleeps until the region's
   interrupt; a VM restored from that snapshot gets a channel and one interrupt, and goes on from here.
   Then: NextInvocation, and for each pushed invocation (event JSON {"Bucket","Key","OutKey"[,"Action"]}):
   GetObject Bucket/Key, PutObject Bucket/OutKey with the bytes upper-cased, and InvocationResponse (with Next, so the
   next invocation is pushed into it) carrying {"Key","OutKey","Bytes","Fnv1a"}. A missing object or a storage error
   is posted as InvocationError. "Action": "crash" triple-faults the VM, "hang" spins with interrupts off, "exit"
   writes 7 to the exit port: the node must report each as the function's error. The hostile actions attack the host
   through the region: "scribble" fills its first MiB (header, rings, request area) with garbage and rings; "lie-index"
   publishes a submission tail 2^20 records ahead; "lie-head" a completion head 2^20 ahead, then asks for work; each
   then waits forever, so only the node can end it. "lie-records" sends six requests whose records lie (offsets in the
   rings, past the region, wrapping 2^64, a length beyond the message, a header over the limit, an unknown operation),
   then serves the event and adds their statuses as "Refused"; "flood" rings the doorbell 20,000 times with nothing
   submitted, then serves the event and adds "Rang".
   Console lines go to the function's log. Built freestanding by the tests (TestGuests) and by the node's tests. */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef int i32;
typedef unsigned long long u64;

#define REGION 0xe0000000UL
#define DOORBELL 0xd0100000UL
#define LAPIC 0xfee00000UL
#define IOAPIC 0xfec00000UL
#define NEXUS_VECTOR 0x30
#define NEXUS_GSI 10
#define TIMER_VECTOR 0xf0

#define MAGIC 0x4843584E
#define RECORD_SIZE 64
#define NO_SLOT 0xFFFFFFFFu
#define FLAG_MORE 1
#define OP_GET 1
#define OP_PUT 2
#define OP_NEXT 16
#define OP_RESPONSE 17
#define OP_ERROR 18
#define OP_DATA 32
#define OP_RELEASE 33
#define OP_DATA_ACK 48

/* Header offsets (ChannelLayout.cs). */
#define OFF_SUB_TAIL 128
#define OFF_SUB_HEAD 192
#define OFF_CMP_TAIL 256
#define OFF_CMP_HEAD 320
#define OFF_HOST_WANTS_CMP 384
#define OFF_SANDBOX_WANTS_SUB 448
#define OFF_HOST_CLOSED 512

#define MAX_OBJECT (256u << 10)
#define MAX_HEADER 4096

struct rec {
    u64 rid;
    u16 op, flags;
    i32 status;
    u64 offset;
    u32 length, header_len;
    u64 total_len;
    u32 slot, chunk;
    u8 reserved[16];
} __attribute__((packed));

struct gate { u16 lo, sel, attr, mid; u32 hi, zero; };

__asm__(".globl _start\n"
        "_start:\n"
        "  lea guest_stack+65536(%rip), %rsp\n"
        "  call guest_main\n"
        "1: hlt\n"
        "  jmp 1b\n"
        /* The region's interrupt: note it, EOI, return. Only rax is used, and saved. */
        "nexus_irq:\n"
        "  movl $1, irq_flag(%rip)\n"
        "  push %rax\n"
        "  mov $0xfee000b0, %eax\n"
        "  movl $0, (%rax)\n"
        "  pop %rax\n"
        "  iretq\n"
        /* #GP: resumes at gp_fixup when one is set (the pv-lite detection's RDMSR faults on other hosts), else a fault. */
        "gp_fault:\n"
        "  cmpq $0, gp_fixup(%rip)\n"
        "  je guest_fault\n"
        "  push %rax\n"
        "  mov gp_fixup(%rip), %rax\n"
        "  mov %rax, 16(%rsp)\n"
        "  movq $0, gp_fixup(%rip)\n"
        "  pop %rax\n"
        "  add $8, %rsp\n"
        "  iretq\n"
        /* The LAPIC timer (the pv-lite wait's watchdog): EOI, return. */
        "timer_irq:\n"
        "  push %rax\n"
        "  mov $0xfee000b0, %eax\n"
        "  movl $0, (%rax)\n"
        "  pop %rax\n"
        "  iretq\n"
        /* Any exception: the runtime is broken; say so on the exit port (code 3). */
        "guest_fault:\n"
        "  mov $3, %al\n"
        "  out %al, $0xf4\n"
        "  jmp guest_fault\n"
        /* Any other vector (the LAPIC's spurious one): nothing to acknowledge. */
        "ignore_irq:\n"
        "  iretq\n");

extern void nexus_irq(void), guest_fault(void), ignore_irq(void), gp_fault(void), timer_irq(void);
u64 gp_fixup;

u8 guest_stack[65536] __attribute__((aligned(16)));
volatile u32 irq_flag;
static struct gate idt[256] __attribute__((aligned(16)));

/* Channel geometry, copied out of the header once (the host never changes it). */
static u32 sub_entries, cmp_entries, slot_size, slot_count, max_header;
static u64 sub_off, cmp_off, req_off, req_size, slot_off, region_size;
static u32 sub_tail, cmp_head;
static int unrung;
static u64 next_rid = 1;

/* The current call's completions, in arrival order. */
static struct rec pending[64];
static u32 pending_count;

static u8 in_obj[MAX_OBJECT];
static u8 out_obj[MAX_OBJECT];
static char inv_header[MAX_HEADER];
static char event[MAX_HEADER];
static char scratch[MAX_HEADER];

void *memset(void *d, int c, unsigned long n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { u8 *p = d; const u8 *r = s; while (n--) *p++ = *r++; return d; }

static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline volatile u32 *reg32(u64 addr) { return (volatile u32 *)addr; }
static inline volatile u32 *hdr32(u32 off) { return (volatile u32 *)(REGION + off); }
static inline u64 hdr64(u32 off) { return *(volatile u64 *)(REGION + off); }
static void putch(char c) { outb(0x3f8, (u8)c); }
static void puts_(const char *s) { while (*s) putch(*s++); }
static void putu(u64 v) { char b[21]; int i = 20; b[i] = 0; do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v); puts_(b + i); }
static void die(const char *why) { puts_("runtime guest: "); puts_(why); puts_("\n"); for (;;) outb(0xf4, 2); }
static unsigned long slen(const char *s) { unsigned long n = 0; while (s[n]) n++; return n; }

static void set_gate(int v, void (*h)(void)) {
    u64 a = (u64)h;
    idt[v].lo = (u16)a; idt[v].sel = 0x08; idt[v].attr = 0x8e00; idt[v].mid = (u16)(a >> 16);
    idt[v].hi = (u32)(a >> 32); idt[v].zero = 0;
}

static void load_idt(void *base, u16 limit) {
    struct { u16 limit; u64 base; } __attribute__((packed)) p = { limit, (u64)base };
    __asm__ volatile("lidt %0" :: "m"(p));
}

static void setup_interrupts(void) {
    outb(0x21, 0xff); outb(0xa1, 0xff);                /* PICs masked: only the IOAPIC delivers */
    for (int v = 0; v < 256; v++) set_gate(v, v < 32 ? guest_fault : ignore_irq);
    set_gate(13, gp_fault);
    set_gate(NEXUS_VECTOR, nexus_irq);
    set_gate(TIMER_VECTOR, timer_irq);
    load_idt(idt, sizeof(idt) - 1);
    *reg32(LAPIC + 0xf0) = 0x1ff;                      /* software-enable, spurious vector 0xff */
    *reg32(IOAPIC) = 0x10 + 2 * NEXUS_GSI;             /* pin 10: vector 0x30, edge, unmasked */
    *reg32(IOAPIC + 0x10) = NEXUS_VECTOR;
    *reg32(IOAPIC) = 0x10 + 2 * NEXUS_GSI + 1;         /* destination APIC 0 */
    *reg32(IOAPIC + 0x10) = 0;
    *reg32(LAPIC + 0x3e0) = 0xb;                       /* timer: divide by 1, one-shot, TIMER_VECTOR (unarmed) */
    *reg32(LAPIC + 0x320) = TIMER_VECTOR;
}

/* kvm_pvm's pv-lite guest ABI (docs/vmm.md, "PVM guest ABI of this host"): once a guest registers a vIF page, the
   host runs its supervisor code natively instead of emulating every instruction (~1000x faster here). Byte 0 of the
   page is then the interrupt flag the host obeys and byte 1 says an interrupt is held; OUT to port 0x80 asks for it.
   Registered with flag bit 0: the host then takes CR3 bit 12 to mean user mode (Linux's PTI pairs), so the guest
   first moves to a copy of the VMM's top-level page table at an 8 KiB-aligned address (bit 12 clear); without that
   flag the guest got no further than the registration. It also loads a GDT with a real TSS (the VMM's boot GDT has
   only a placeholder at address 0), so that the host finds a valid one whenever it delivers an event. Elsewhere the signature MSR faults and the guest runs as
   before. */
#define MSR_PVLITE_VIF 0x4b564d10
#define MSR_PVLITE_SIGNATURE 0x4b564d11
#define PVLITE_HC_HALT 0x1009
static volatile u8 vif_page[4096] __attribute__((aligned(4096)));
static u64 supervisor_pml4[512] __attribute__((aligned(8192)));
static u64 gdt[8] __attribute__((aligned(16)));
static u32 tss[26] __attribute__((aligned(16)));
static u8 event_stack[16384] __attribute__((aligned(16)));
static int pvlite;

/* A GDT with a real TSS (the VMM's boot GDT has only a placeholder at address 0), for the pv-lite host's event
   delivery and its TR reloads when it enters the guest natively. */
static void load_gdt_and_tss(void) {
    u64 base = (u64)tss;
    *(u64 *)&tss[1] = (u64)event_stack + sizeof event_stack; /* RSP0 */
    tss[25] = 104u << 16;                                   /* no I/O bitmap */
    gdt[1] = 0x00af9b000000ffffUL;                          /* 0x08 kernel code, 64-bit */
    gdt[2] = 0x00cf93000000ffffUL;                          /* 0x10 kernel data */
    gdt[6] = 103 | ((base & 0xffffff) << 16) | (0x89UL << 40) | ((base >> 24 & 0xff) << 56); /* 0x30 TSS */
    gdt[7] = base >> 32;
    struct { u16 limit; u64 base; } __attribute__((packed)) gdtr = { sizeof gdt - 1, (u64)gdt };
    __asm__ volatile("lgdt %0\n"
                     "pushq $0x08\n leaq 1f(%%rip), %%rax\n pushq %%rax\n lretq\n"
                     "1: mov $0x10, %%eax\n mov %%eax, %%ds\n mov %%eax, %%es\n mov %%eax, %%ss\n"
                     "mov $0x30, %%eax\n ltr %%ax"
                     :: "m"(gdtr) : "rax", "memory");
}

static void detect_pvlite(void) {
    u32 lo = 0, hi = 0;
    __asm__ volatile("leaq 1f(%%rip), %%r8\n movq %%r8, gp_fixup(%%rip)\n rdmsr\n 1: movq $0, gp_fixup(%%rip)"
                     : "+a"(lo), "+d"(hi) : "c"(MSR_PVLITE_SIGNATURE) : "r8", "memory");
    if (lo != 0x4d5650) return;                        /* "PVM"; a fault left 0 */
    load_gdt_and_tss();
    u64 cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    memcpy(supervisor_pml4, (const void *)(cr3 & ~0xfffUL), sizeof supervisor_pml4);
    /* Natively the host runs this supervisor code in hardware ring 3 on a shadow of these tables, so every mapping
       needs the user bit (measured: without it the vCPU never gets past the registration). This guest has no user
       mode of its own, so the bit opens nothing to anyone. */
    for (int i = 0; i < 512; i++) {
        if (!(supervisor_pml4[i] & 1)) continue;
        supervisor_pml4[i] |= 4;
        u64 *pdpt = (u64 *)(supervisor_pml4[i] & 0xffffffffff000UL);
        for (int j = 0; j < 512; j++) {
            if (!(pdpt[j] & 1)) continue;
            pdpt[j] |= 4;
            if (pdpt[j] & 0x80) continue;              /* a 1 GiB page */
            u64 *pd = (u64 *)(pdpt[j] & 0xffffffffff000UL);
            for (int k = 0; k < 512; k++) if (pd[k] & 1) pd[k] |= 4;
        }
    }
    __asm__ volatile("mov %0, %%cr3" :: "r"((u64)supervisor_pml4) : "memory");
    vif_page[0] = 0;                                   /* interrupts off until the first wait enables them */
    u64 gpa = (u64)vif_page | 1;                       /* identity-mapped; bit 0: CPL follows CR3 bit 12 */
    __asm__ volatile("wrmsr" :: "c"(MSR_PVLITE_VIF), "a"((u32)gpa), "d"((u32)(gpa >> 32)) : "memory");
    pvlite = 1;
    puts_("runtime guest: pv-lite host, supervisor code native\n");
}

static void vif_enable(void) {
    vif_page[0] = 1;
    barrier();
    if (vif_page[1]) outb(0x80, 0);                    /* a held interrupt: have it delivered now */
}

/* The pv-lite wait: HALT by hypercall with vIF 1. An interrupt arriving between the flag check and the hypercall is
   delivered before the hypercall, which may then sleep until the next event: a one-shot LAPIC timer (~1 ms) bounds
   that, so a lost wake-up costs at most a millisecond, never a hang. */
static void wait_irq_pvlite(void) {
    for (;;) {
        vif_page[0] = 0;
        barrier();
        if (irq_flag) { irq_flag = 0; vif_enable(); return; }
        vif_enable();
        if (irq_flag) continue;
        *reg32(LAPIC + 0x380) = 1000000;               /* watchdog: one-shot, ~1 ms at KVM's 1 GHz APIC clock */
        u64 rax = PVLITE_HC_HALT;
        __asm__ volatile("int $0x1b" : "+a"(rax) : "b"(0UL), "c"(0UL), "d"(0UL) : "memory");
    }
}

/* Sleeps until the region's interrupt (sti;hlt is atomic: an interrupt between the check and hlt still wakes it). */
static void wait_irq(void) {
    if (pvlite) { wait_irq_pvlite(); return; }
    for (;;) {
        __asm__ volatile("cli" ::: "memory");
        if (irq_flag) { irq_flag = 0; __asm__ volatile("sti" ::: "memory"); return; }
        __asm__ volatile("sti; hlt" ::: "memory");
    }
}

static void ring(void) { *reg32(DOORBELL) = 1; unrung = 0; }

/* Waits for a channel in the region; rings "ready" once if there is none yet (a boot for a snapshot). */
static void wait_for_channel(void) {
    int rang = 0;
    while (*hdr32(0) != MAGIC) {
        if (!rang) { puts_("runtime guest: ready, waiting for a channel\n"); ring(); rang = 1; }
        wait_irq();
    }

    u16 version = *(volatile u16 *)(REGION + 4), record = *(volatile u16 *)(REGION + 6);
    region_size = hdr64(8);
    sub_entries = *hdr32(16); cmp_entries = *hdr32(20);
    sub_off = hdr64(24); cmp_off = hdr64(32); req_off = hdr64(40); req_size = hdr64(48);
    slot_off = hdr64(56); slot_size = *hdr32(64); slot_count = *hdr32(68); max_header = *hdr32(72);
    if (version != 2 || record != RECORD_SIZE) die("not a Nexus channel v2 region");
    if (region_size > (256u << 20) || req_size < slot_size || req_off + req_size > region_size
        || slot_off + (u64)slot_size * slot_count > region_size || (sub_entries & (sub_entries - 1)) || (cmp_entries & (cmp_entries - 1)))
        die("the channel header describes a layout outside the region");
    sub_tail = *hdr32(OFF_SUB_TAIL);
    cmp_head = *hdr32(OFF_CMP_HEAD);
}

static void check_open(void) { if (*hdr32(OFF_HOST_CLOSED)) die("the host closed the channel"); }

/* Publishes one submission record (the caller rings). Waits for space as the Python runtime does. */
static void submit(const struct rec *r) {
    for (;;) {
        check_open();
        u32 head = *hdr32(OFF_SUB_HEAD);
        if (sub_tail - head < sub_entries) break;
        *hdr32(OFF_SANDBOX_WANTS_SUB) = 1;
        ring();
        wait_irq();
    }
    memcpy((void *)(REGION + sub_off + (u64)(sub_tail & (sub_entries - 1)) * RECORD_SIZE), r, RECORD_SIZE);
    barrier();
    sub_tail++;
    *hdr32(OFF_SUB_TAIL) = sub_tail;
}

static void release(u32 slot) {
    struct rec r; memset(&r, 0, sizeof r);
    r.op = OP_RELEASE; r.slot = slot;
    submit(&r);
    unrung = 1;
}

/* Takes every completion; those of call `rid` are queued, strays have their slots returned. */
static void drain(u64 rid) {
    u32 tail = *hdr32(OFF_CMP_TAIL);
    barrier();
    while (cmp_head != tail) {
        struct rec r;
        memcpy(&r, (void *)(REGION + cmp_off + (u64)(cmp_head & (cmp_entries - 1)) * RECORD_SIZE), RECORD_SIZE);
        cmp_head++;
        if (r.rid != rid) { if (r.slot != NO_SLOT) release(r.slot); continue; }
        if (r.op == OP_DATA_ACK) continue;
        if (pending_count == 64) die("more than 64 completions for one call");
        pending[pending_count++] = r;
    }
    *hdr32(OFF_CMP_HEAD) = cmp_head;
    if (*hdr32(OFF_HOST_WANTS_CMP)) { *hdr32(OFF_HOST_WANTS_CMP) = 0; ring(); }
}

/* The next completion of call `rid`, waiting for the host as needed. */
static struct rec next_completion(u64 rid) {
    while (pending_count == 0) {
        check_open();
        drain(rid);
        if (pending_count) break;
        if (unrung) ring();
        wait_irq();
    }
    struct rec r = pending[0];
    for (u32 i = 1; i < pending_count; i++) pending[i - 1] = pending[i];
    pending_count--;
    return r;
}

/* A response: status, header (NUL-terminated, in hbuf) and body (in bbuf, up to bcap bytes; more is an error). */
struct response { i32 status; u64 body_len; };

/* Submits `r` (its rid is set here) and collects the response it gets. */
static struct response exchange(struct rec *r, char *hbuf, u32 hcap, u8 *bbuf, u64 bcap) {
    u64 rid = r->rid = next_rid++;
    pending_count = 0;
    submit(r);
    ring();

    struct rec first = next_completion(rid);
    struct response resp = { first.status, first.total_len };
    u64 need = first.header_len + first.total_len, got = 0;
    if (first.header_len >= hcap) die("response header too large");
    if (first.total_len > bcap) die("response body too large for this runtime");
    struct rec c = first;
    for (;;) {
        if (c.length > need - got || c.offset + c.length > region_size) die("a completion chunk lies outside its message or the region");
        for (u32 i = 0; i < c.length; i++, got++) {
            u8 b = *(volatile u8 *)(REGION + c.offset + i);
            if (got < first.header_len) hbuf[got] = (char)b; else bbuf[got - first.header_len] = b;
        }
        if (c.slot != NO_SLOT) release(c.slot);
        if (!(c.flags & FLAG_MORE)) break;
        c = next_completion(rid);
        if (c.op != OP_DATA) die("expected a Data chunk");
    }
    if (got != need) die("response shorter than announced");
    hbuf[first.header_len] = 0;
    return resp;
}

static struct response call(u16 op, const char *header, const u8 *body, u32 body_len, char *hbuf, u32 hcap, u8 *bbuf, u64 bcap) {
    u32 hlen = (u32)slen(header);
    if (hlen > max_header || (u64)hlen + body_len > slot_size) die("request larger than one chunk (this runtime sends single-chunk requests)");
    u8 *extent = (u8 *)(REGION + req_off);           /* one call at a time: the first extent is always free here */
    memcpy(extent, header, hlen);
    if (body_len) memcpy(extent + hlen, body, body_len);
    struct rec r; memset(&r, 0, sizeof r);
    r.op = op; r.offset = req_off; r.length = hlen + body_len; r.header_len = hlen; r.total_len = body_len;
    r.slot = NO_SLOT;
    return exchange(&r, hbuf, hcap, bbuf, bcap);
}

/* The string value of "name" in a flat JSON object (no escapes); 0 when absent. */
static int json_string(const char *json, const char *name, char *out, u32 cap) {
    u32 n = (u32)slen(name);
    for (const char *p = json; *p; p++) {
        if (*p != '"') continue;
        u32 i = 0;
        while (i < n && p[1 + i] == name[i]) i++;
        if (i != n || p[1 + n] != '"') continue;
        const char *q = p + n + 2;
        while (*q == ' ') q++;
        if (*q++ != ':') continue;
        while (*q == ' ') q++;
        if (*q++ != '"') return 0;
        u32 len = 0;
        while (q[len] && q[len] != '"') { if (q[len] == '\\' || len + 1 >= cap) return 0; len++; }
        if (q[len] != '"') return 0;
        memcpy(out, q, len); out[len] = 0;
        return 1;
    }
    return 0;
}

static char *append(char *at, const char *s) { while (*s) *at++ = *s++; *at = 0; return at; }
static char *append_u(char *at, u64 v) { char b[21]; int i = 20; b[i] = 0; do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v); return append(at, b + i); }
static char *append_hex(char *at, u32 v) { for (int s = 28; s >= 0; s -= 4) *at++ = "0123456789abcdef"[(v >> s) & 15]; *at = 0; return at; }

static char request_id[128], bucket[128], key[512], out_key[512], action[32], result[2048], header[2048], extra[256];

/* Hostile actions: the guest attacks the host through its own region; the node must contain each. */

static void hold(void) { for (;;) wait_irq(); }     /* never answers again: the node has to end this VM */

/* Requests whose records lie about their bytes; the host must refuse each (400) and keep serving the channel. */
static void lie_in_records(void) {
    static const char *what[] = { "an offset in the rings", "an offset past the region", "an extent wrapping 2^64",
                                  "a length beyond its message", "a header over the limit", "an unknown operation" };
    struct rec lies[6];
    memcpy((void *)(REGION + req_off), "{}", 2);
    for (int i = 0; i < 6; i++) {
        memset(&lies[i], 0, sizeof lies[i]);
        lies[i].op = OP_GET; lies[i].offset = req_off; lies[i].length = 2; lies[i].header_len = 2; lies[i].slot = NO_SLOT;
    }
    lies[0].offset = sub_off;
    lies[1].offset = region_size + 4096;
    lies[2].offset = ~0ULL - 4095; lies[2].length = 8192; lies[2].header_len = 8192;
    lies[3].length = 1002;
    lies[4].header_len = 8u << 20; lies[4].length = 8u << 20;
    lies[5].op = 999;
    char *e = append(extra, "\"Refused\":[");
    for (int i = 0; i < 6; i++) {
        struct response r = exchange(&lies[i], scratch, sizeof scratch, in_obj, sizeof in_obj);
        puts_("runtime guest: a request with "); puts_(what[i]); puts_(" answered "); putu((u64)r.status); puts_("\n");
        if (i) e = append(e, ",");
        e = append_u(e, (u64)r.status);
    }
    append(e, "]");
}

/* Fills the start of the region (header with the host's own positions, both rings, the request area) with garbage, rings. */
static void scribble(void) {
    u64 x = 0x9e3779b97f4a7c15ULL, n = region_size < (1u << 20) ? region_size : (1u << 20);
    for (u64 at = 0; at < n; at += 8) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        *(volatile u64 *)(REGION + at) = x;
    }
    puts_("runtime guest: scribbled "); putu(n); puts_(" bytes over the region\n");
    ring();
    hold();
}

/* A submission tail a million records ahead of what was published. */
static void lie_in_index(void) {
    *hdr32(OFF_SUB_TAIL) = sub_tail + (1u << 20);
    puts_("runtime guest: published a submission tail 2^20 records ahead\n");
    ring();
    hold();
}

/* A completion head a million records ahead of what the host posted, then a request the host answers at once (an
   unknown operation: refused), whose answer has nowhere to go. */
static void lie_in_head(void) {
    *hdr32(OFF_CMP_HEAD) = cmp_head + (1u << 20);
    puts_("runtime guest: published a completion head 2^20 records ahead\n");
    memcpy((void *)(REGION + req_off), "{}", 2);
    struct rec r; memset(&r, 0, sizeof r);
    r.rid = next_rid++; r.op = 999; r.offset = req_off; r.length = 2; r.header_len = 2; r.slot = NO_SLOT;
    submit(&r);
    ring();
    hold();
}

/* Rings the doorbell FLOOD_RINGS times with nothing to submit. */
#define FLOOD_RINGS 20000u
static void flood(void) {
    for (u32 i = 0; i < FLOOD_RINGS; i++) ring();
    puts_("runtime guest: rang the doorbell "); putu(FLOOD_RINGS); puts_(" times\n");
    append_u(append(extra, "\"Rang\":"), FLOOD_RINGS);
}

/* Runs one invocation; fills `result` and returns the op to post it with (InvocationResponse or InvocationError). */
static u16 handle(u64 event_len) {
    event[event_len < sizeof(event) - 1 ? event_len : sizeof(event) - 1] = 0;
    extra[0] = 0;
    if (json_string(event, "Action", action, sizeof action)) {
        puts_("runtime guest: action "); puts_(action); puts_("\n");
        if (action[0] == 'c') { load_idt(0, 0); __asm__ volatile("ud2"); }       /* no IDT: triple fault */
        if (action[0] == 'h') { __asm__ volatile("cli"); for (;;) barrier(); }
        if (action[0] == 'e') for (;;) outb(0xf4, 7);
        if (action[0] == 's') scribble();
        if (action[0] == 'f') flood();
        if (action[0] == 'l' && action[4] == 'r') lie_in_records();
        if (action[0] == 'l' && action[4] == 'i') lie_in_index();
        if (action[0] == 'l' && action[4] == 'h') lie_in_head();
    }
    if (!json_string(event, "Bucket", bucket, sizeof bucket) || !json_string(event, "Key", key, sizeof key)
        || !json_string(event, "OutKey", out_key, sizeof out_key)) {
        append(result, "{\"errorType\":\"BadEvent\",\"errorMessage\":\"the event needs Bucket, Key and OutKey strings\"}");
        return OP_ERROR;
    }

    char *h = append(header, "{\"Bucket\":\""); h = append(h, bucket); h = append(h, "\",\"Key\":\""); h = append(h, key); append(h, "\"}");
    struct response got = call(OP_GET, header, 0, 0, scratch, sizeof scratch, in_obj, sizeof in_obj);
    if (got.status != 200) {
        char *e = append(result, "{\"errorType\":\"GetObjectFailed\",\"errorMessage\":\"GetObject ");
        e = append(e, key); e = append(e, " answered "); e = append_u(e, (u64)got.status); append(e, "\"}");
        return OP_ERROR;
    }

    u32 fnv = 2166136261u;
    for (u64 i = 0; i < got.body_len; i++) {
        u8 b = in_obj[i];
        fnv = (fnv ^ b) * 16777619u;
        out_obj[i] = (b >= 'a' && b <= 'z') ? (u8)(b - 32) : b;
    }

    h = append(header, "{\"Bucket\":\""); h = append(h, bucket); h = append(h, "\",\"Key\":\""); h = append(h, out_key); append(h, "\"}");
    struct response put = call(OP_PUT, header, out_obj, (u32)got.body_len, scratch, sizeof scratch, 0, 0);
    if (put.status != 200) {
        char *e = append(result, "{\"errorType\":\"PutObjectFailed\",\"errorMessage\":\"PutObject ");
        e = append(e, out_key); e = append(e, " answered "); e = append_u(e, (u64)put.status); append(e, "\"}");
        return OP_ERROR;
    }

    puts_("runtime guest: "); puts_(key); puts_(" -> "); puts_(out_key); puts_(", "); putu(got.body_len); puts_(" bytes\n");
    char *r = append(result, "{\"Key\":\""); r = append(r, key); r = append(r, "\",\"OutKey\":\""); r = append(r, out_key);
    r = append(r, "\",\"Bytes\":"); r = append_u(r, got.body_len); r = append(r, ",\"Fnv1a\":\""); r = append_hex(r, fnv); r = append(r, "\"");
    if (extra[0]) { r = append(r, ","); r = append(r, extra); extra[0] = 0; }
    append(r, "}");
    return OP_RESPONSE;
}

void guest_main(void) {
    setup_interrupts();
    detect_pvlite();
    wait_for_channel();
    puts_("runtime guest: channel found, asking for work\n");

    struct response inv = call(OP_NEXT, "{}", 0, 0, inv_header, sizeof inv_header, (u8 *)event, sizeof event - 1);
    for (;;) {
        if (inv.status != 200 || !json_string(inv_header, "RequestId", request_id, sizeof request_id)) die("the host answered NextInvocation without an invocation");
        u16 op = handle(inv.body_len);
        char *h = append(header, "{\"RequestId\":\""); h = append(h, request_id); append(h, "\",\"Next\":true}");
        inv = call(op, header, (const u8 *)result, (u32)slen(result), inv_header, sizeof inv_header, (u8 *)event, sizeof event - 1);
    }
}
