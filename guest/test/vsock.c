/* A virtio-vsock driver loop over virtio-mmio v2 at 0xd0000000 (polling, no interrupts), guest CID 3.
   1. connects to host port 1234, sends "hello from guest", prints the host's reply ("guest got: ...");
      SHUTDOWN both ways must be answered by RST;
   2. sends an RW whose length exceeds its buffer: the device must answer RST (and keep working);
   3. prints "ready", leaves unanswered any connection to another port (the device must time it out and
      reset it), accepts the host-initiated connection to port 6000, echoes what arrives, leaves the host's
      SHUTDOWN unanswered and prints "echo done" when the device's timeout resets the stream. If the VM was snapshotted and restored meanwhile, the
      event queue holds a TRANSPORT_RESET by then: it prints "transport reset event" first.
   Exit code 1 = all good; others name the failed step. Built freestanding by TestGuests. */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define BASE 0xd0000000UL
#define QS 8
#define GUEST_CID 3
#define HOST_CID 2
#define OP_REQUEST 1
#define OP_RESPONSE 2
#define OP_RST 3
#define OP_SHUTDOWN 4
#define OP_RW 5
#define OP_CREDIT_UPDATE 6
#define OP_CREDIT_REQUEST 7

__asm__(".globl _start\n"
        "_start:\n"
        "  lea guest_stack+16384(%rip), %rsp\n"
        "  call guest_main\n"
        "1: hlt\n"
        "  jmp 1b\n");

u8 guest_stack[16384] __attribute__((aligned(16)));

struct desc { u64 addr; u32 len; u16 flags; u16 next; };
struct avail { u16 flags; u16 idx; u16 ring[QS]; u16 used_event; };
struct used_elem { u32 id; u32 len; };
struct used { u16 flags; u16 idx; struct used_elem ring[QS]; u16 avail_event; };
struct queue {
    struct desc desc[QS] __attribute__((aligned(16)));
    struct avail avail __attribute__((aligned(16)));
    struct used used __attribute__((aligned(16)));
    u16 last_used;
};

struct hdr {
    u64 src_cid, dst_cid;
    u32 src_port, dst_port, len;
    u16 type, op;
    u32 flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

static struct queue q[3] __attribute__((aligned(4096)));
static u8 rxbuf[QS][4096] __attribute__((aligned(4096)));
static u8 txbuf[4096] __attribute__((aligned(16)));
static u8 evbuf[8] __attribute__((aligned(8)));
static u32 fwd_cnt; /* bytes consumed on the current connection (credit is per connection) */

void *memset(void *d, int c, unsigned long n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { u8 *p = d; const u8 *r = s; while (n--) *p++ = *r++; return d; }

static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void mmio_w(u32 off, u32 v) { *(volatile u32 *)(BASE + off) = v; }
static inline u32 mmio_r(u32 off) { return *(volatile u32 *)(BASE + off); }
static void putch(char c) { outb(0x3f8, (u8)c); }
static void puts_(const char *s) { while (*s) putch(*s++); }
static void fail(u8 code) { puts_("vsock guest failed\n"); for (;;) outb(0xf4, code); }

static void setup_queue(u32 i) {
    mmio_w(0x30, i);
    if (mmio_r(0x34) < QS) fail(15);
    mmio_w(0x38, QS);
    u64 d = (u64)&q[i].desc, a = (u64)&q[i].avail, u = (u64)&q[i].used;
    mmio_w(0x80, (u32)d); mmio_w(0x84, (u32)(d >> 32));
    mmio_w(0x90, (u32)a); mmio_w(0x94, (u32)(a >> 32));
    mmio_w(0xa0, (u32)u); mmio_w(0xa4, (u32)(u >> 32));
    mmio_w(0x44, 1);
}

static void post_rx(u16 id) {
    struct queue *r = &q[0];
    r->avail.ring[r->avail.idx % QS] = id;
    barrier();
    r->avail.idx++;
    barrier();
    mmio_w(0x50, 0);
}

/* Sends one packet (header + payload in one descriptor) and waits until the device used it. */
static void send(u32 src_port, u32 dst_port, u16 op, u32 flags, const u8 *data, u32 len, u32 claimed_len) {
    struct queue *t = &q[1];
    struct hdr *h = (struct hdr *)txbuf;
    h->src_cid = GUEST_CID; h->dst_cid = HOST_CID;
    h->src_port = src_port; h->dst_port = dst_port;
    h->len = claimed_len; h->type = 1; h->op = op; h->flags = flags;
    h->buf_alloc = 65536; h->fwd_cnt = fwd_cnt;
    memcpy(txbuf + sizeof(struct hdr), data, len);
    t->desc[0].addr = (u64)txbuf; t->desc[0].len = sizeof(struct hdr) + len; t->desc[0].flags = 0; t->desc[0].next = 0;
    t->avail.ring[t->avail.idx % QS] = 0;
    barrier();
    t->avail.idx++;
    barrier();
    mmio_w(0x50, 1);
    while (*(volatile u16 *)&t->used.idx == t->last_used) barrier();
    t->last_used++;
}

/* Waits for the next packet from the host, skipping credit updates; copies it to *out and recycles the buffer. */
static u32 receive(struct hdr *out, u8 *payload) {
    struct queue *r = &q[0];
    for (;;) {
        while (*(volatile u16 *)&r->used.idx == r->last_used) barrier();
        barrier();
        struct used_elem e = r->used.ring[r->last_used % QS];
        r->last_used++;
        if (e.id >= QS || e.len < sizeof(struct hdr)) fail(20);
        struct hdr *h = (struct hdr *)rxbuf[e.id];
        *out = *h;
        u32 n = h->len;
        if (n > 4096 - sizeof(struct hdr) || e.len != sizeof(struct hdr) + n) fail(21);
        if (payload) memcpy(payload, rxbuf[e.id] + sizeof(struct hdr), n);
        post_rx((u16)e.id);
        if (out->src_cid != HOST_CID || out->dst_cid != GUEST_CID) fail(22);
        if (out->op == OP_RW) fwd_cnt += n;
        if (out->op != OP_CREDIT_UPDATE) return n;
    }
}

void guest_main(void) {
    if (mmio_r(0x00) != 0x74726976 || mmio_r(0x04) != 2) fail(10);
    if (mmio_r(0x08) != 19) fail(12);
    if (*(volatile u64 *)(BASE + 0x100) != GUEST_CID) fail(16);
    mmio_w(0x70, 0); mmio_w(0x70, 1); mmio_w(0x70, 3);
    mmio_w(0x14, 1);
    if (!(mmio_r(0x10) & 1)) fail(13);
    mmio_w(0x24, 1); mmio_w(0x20, 1); mmio_w(0x24, 0); mmio_w(0x20, 0);
    mmio_w(0x70, 0xb);
    if (!(mmio_r(0x70) & 8)) fail(14);
    for (u32 i = 0; i < 3; i++) setup_queue(i);
    mmio_w(0x70, 0xf);
    for (u16 i = 0; i < QS; i++) {
        q[0].desc[i].addr = (u64)rxbuf[i]; q[0].desc[i].len = 4096; q[0].desc[i].flags = 2; q[0].desc[i].next = 0;
        post_rx(i);
    }

    /* One event buffer: the device writes VIRTIO_VSOCK_EVENT_TRANSPORT_RESET (0) into it on a snapshot. */
    q[2].desc[0].addr = (u64)evbuf; q[2].desc[0].len = sizeof(evbuf); q[2].desc[0].flags = 2; q[2].desc[0].next = 0;
    q[2].avail.ring[0] = 0;
    barrier();
    q[2].avail.idx = 1;
    barrier();
    mmio_w(0x50, 2);

    struct hdr h;
    static u8 payload[4096];

    /* 1. guest-initiated */
    send(5000, 1234, OP_REQUEST, 0, 0, 0, 0);
    receive(&h, 0);
    if (h.op != OP_RESPONSE || h.src_port != 1234 || h.dst_port != 5000) fail(30);
    send(5000, 1234, OP_RW, 0, (const u8 *)"hello from guest", 16, 16);
    u32 n = receive(&h, payload);
    if (h.op != OP_RW || n == 0) fail(31);
    payload[n] = 0;
    puts_("guest got: "); puts_((const char *)payload); puts_("\n");
    send(5000, 1234, OP_SHUTDOWN, 3, 0, 0, 0);
    receive(&h, 0);
    if (h.op != OP_RST || h.dst_port != 5000) fail(32);

    /* 2. hostile length */
    send(5002, 1234, OP_RW, 0, (const u8 *)"short", 5, 60000);
    receive(&h, 0);
    if (h.op != OP_RST || h.dst_port != 5002) fail(40);
    puts_("rst for bad length\n");

    /* 3. host-initiated, echo */
    fwd_cnt = 0;
    puts_("ready\n");
    for (;;) {
        receive(&h, 0);
        if (h.op == OP_REQUEST && h.dst_port == 6000) break;
        if ((h.op != OP_REQUEST && h.op != OP_RST) || h.dst_port == 6000) fail(50);
    }
    if (*(volatile u16 *)&q[2].used.idx == 1) {
        if (q[2].used.ring[0].id != 0 || q[2].used.ring[0].len != 4 || *(volatile u32 *)evbuf != 0) fail(53);
        puts_("transport reset event\n");
    }
    u32 host_port = h.src_port;
    send(6000, host_port, OP_RESPONSE, 0, 0, 0, 0);
    int shut = 0;
    for (;;) {
        n = receive(&h, payload);
        if (h.src_port != host_port || h.dst_port != 6000) fail(51);
        if (h.op == OP_RW && !shut) { send(6000, host_port, OP_RW, 0, payload, n, n); continue; }
        if (h.op == OP_SHUTDOWN && !shut) { shut = 1; continue; }
        if (h.op == OP_RST && shut) break;
        if (h.op == OP_CREDIT_REQUEST) { send(6000, host_port, OP_CREDIT_UPDATE, 0, 0, 0, 0); continue; }
        fail(52);
    }

    puts_("echo done\n");
    for (;;) outb(0xf4, 1);
}
