/* A virtio-net driver loop over virtio-mmio v2 at 0xd0000000 (polling, no interrupts), guest 10.0.0.2, host 10.0.0.1,
   or the addresses of an "ip=GUEST::GATEWAY:..." on its command line (the microvm driver's baseline VMs get one); the
   steps below name the defaults.
   0. with ip= on the command line, prints "address GUEST gateway GATEWAY from the command line";
   1. sends four frames the device must drop and count, yet return: too short, too long, a header asking for GSO,
      a chain with a device-writable buffer;
   2. ARP: asks who has 10.0.0.1, prints "arp reply from 10.0.0.1" with the host's answer;
   3. sends the UDP datagram "hello from guest net" from port 7000 to 10.0.0.1:7001, prints "ready";
   4. answers ARP requests for 10.0.0.2 and echoes every UDP datagram to port 7000 (addresses and ports swapped);
      after echoing one that starts with "bye" it exits with code 1.
   The RX queue asks for no interrupts (VRING_AVAIL_F_NO_INTERRUPT), the TX queue does not.
   Exit code 1 = all good; others name the failed step. Built freestanding by TestGuests. */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define BASE 0xd0000000UL
#define QS 16
#define HDR 12
#define RXLEN 2048

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

static struct queue q[2] __attribute__((aligned(4096)));
static u8 rxbuf[QS][RXLEN] __attribute__((aligned(4096)));
static u8 txbuf[4096] __attribute__((aligned(16)));
static u8 scratch[64] __attribute__((aligned(16)));
static u8 mac[6], host_mac[6];
static u8 guest_ip[4] = {10, 0, 0, 2}, host_ip[4] = {10, 0, 0, 1};

void *memset(void *d, int c, unsigned long n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { u8 *p = d; const u8 *r = s; while (n--) *p++ = *r++; return d; }
static int same(const u8 *a, const u8 *b, u32 n) { while (n--) if (*a++ != *b++) return 0; return 1; }

static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void mmio_w(u32 off, u32 v) { *(volatile u32 *)(BASE + off) = v; }
static inline u32 mmio_r(u32 off) { return *(volatile u32 *)(BASE + off); }
static void putch(char c) { outb(0x3f8, (u8)c); }
static void puts_(const char *s) { while (*s) putch(*s++); }
static void fail(u8 code) { puts_("net guest failed\n"); for (;;) outb(0xf4, code); }
static void put_ip(const u8 *ip) {
    for (int i = 0; i < 4; i++) {
        char b[4]; int n = 0; u8 v = ip[i];
        if (v >= 100) b[n++] = (char)('0' + v / 100);
        if (v >= 10) b[n++] = (char)('0' + v / 10 % 10);
        b[n++] = (char)('0' + v % 10); b[n] = 0;
        puts_(b);
        if (i < 3) putch('.');
    }
}

/* A dotted quad at *p into ip (p moves past it); 0 if it is not one. */
static int parse_ip(const char **p, u8 *ip) {
    for (int i = 0; i < 4; i++) {
        u32 v = 0, digits = 0;
        while (**p >= '0' && **p <= '9' && digits < 3) { v = v * 10 + (u32)(**p - '0'); (*p)++; digits++; }
        if (!digits || v > 255 || (i < 3 && *(*p)++ != '.')) return 0;
        ip[i] = (u8)v;
    }
    return 1;
}

/* "ip=GUEST::GATEWAY:..." on the command line (written at 0x20000 by the VMM, at most 2 KiB): both addresses, or neither. */
static void addresses_from_cmdline(void) {
    const char *c = (const char *)0x20000UL;
    for (u32 i = 0; i < 2048 && c[i]; i++) {
        if ((i && c[i - 1] != ' ') || c[i] != 'i' || c[i + 1] != 'p' || c[i + 2] != '=') continue;
        const char *p = c + i + 3;
        u8 guest[4], gateway[4];
        if (!parse_ip(&p, guest) || *p++ != ':' || *p++ != ':' || !parse_ip(&p, gateway)) return;
        memcpy(guest_ip, guest, 4); memcpy(host_ip, gateway, 4);
        puts_("address "); put_ip(guest_ip); puts_(" gateway "); put_ip(host_ip); puts_(" from the command line\n");
        return;
    }
}

static u16 be16(const u8 *p) { return (u16)((p[0] << 8) | p[1]); }
static void put16(u8 *p, u16 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }

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

/* Publishes the chain at descriptor 0 of the TX queue and waits until the device used it (with 0 bytes written). */
static void kick_tx(void) {
    struct queue *t = &q[1];
    t->avail.ring[t->avail.idx % QS] = 0;
    barrier();
    t->avail.idx++;
    barrier();
    mmio_w(0x50, 1);
    while (*(volatile u16 *)&t->used.idx == t->last_used) barrier();
    barrier();
    if (t->used.ring[t->last_used % QS].id != 0 || t->used.ring[t->last_used % QS].len != 0) fail(25);
    t->last_used++;
}

/* Sends txbuf[0..HDR+len) as one frame; txbuf's header is zero (no offload). */
static void send(u32 len) {
    struct queue *t = &q[1];
    memset(txbuf, 0, HDR);
    t->desc[0].addr = (u64)txbuf; t->desc[0].len = HDR + len; t->desc[0].flags = 0; t->desc[0].next = 0;
    kick_tx();
}

/* Waits for the next frame; copies it to out (without the virtio-net header), recycles the buffer, returns its length. */
static u32 receive(u8 *out) {
    struct queue *r = &q[0];
    while (*(volatile u16 *)&r->used.idx == r->last_used) barrier();
    barrier();
    struct used_elem e = r->used.ring[r->last_used % QS];
    r->last_used++;
    if (e.id >= QS || e.len < HDR + 14 || e.len > RXLEN) fail(20);
    if (rxbuf[e.id][0] != 0 || rxbuf[e.id][1] != 0 || rxbuf[e.id][10] != 1) fail(21); /* flags, gso, num_buffers */
    u32 n = e.len - HDR;
    memcpy(out, rxbuf[e.id] + HDR, n);
    post_rx((u16)e.id);
    return n;
}

static u8 *eth(u8 *f, const u8 *dst, u16 type) {
    memcpy(f, dst, 6); memcpy(f + 6, mac, 6); put16(f + 12, type);
    return f + 14;
}

static void send_arp(u16 oper, const u8 *dst_mac, const u8 *target_ip) {
    static const u8 broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    u8 *a = eth(txbuf + HDR, oper == 1 ? broadcast : dst_mac, 0x0806);
    put16(a, 1); put16(a + 2, 0x0800); a[4] = 6; a[5] = 4; put16(a + 6, oper);
    memcpy(a + 8, mac, 6); memcpy(a + 14, guest_ip, 4);
    if (oper == 1) memset(a + 18, 0, 6); else memcpy(a + 18, dst_mac, 6);
    memcpy(a + 24, target_ip, 4);
    send(14 + 28);
}

static u16 ip_checksum(const u8 *h) {
    u32 sum = 0;
    for (int i = 0; i < 20; i += 2) sum += be16(h + i);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (u16)~sum;
}

static void send_udp(const char *text, u16 len) {
    u8 *ip = eth(txbuf + HDR, host_mac, 0x0800);
    memset(ip, 0, 20);
    ip[0] = 0x45; put16(ip + 2, (u16)(20 + 8 + len)); ip[8] = 64; ip[9] = 17;
    memcpy(ip + 12, guest_ip, 4); memcpy(ip + 16, host_ip, 4);
    put16(ip + 10, ip_checksum(ip));
    u8 *udp = ip + 20;
    put16(udp, 7000); put16(udp + 2, 7001); put16(udp + 4, (u16)(8 + len)); put16(udp + 6, 0);
    memcpy(udp + 8, text, len);
    send(14 + 20 + 8 + len);
}

static void hostile_frames(void) {
    struct queue *t = &q[1];
    send(6);                         /* shorter than an Ethernet header */
    memset(txbuf + HDR, 0xab, 2000);
    send(2000);                      /* longer than 1518 */
    eth(txbuf + HDR, mac, 0x0800);
    t->desc[0].addr = (u64)txbuf; t->desc[0].len = HDR + 60; t->desc[0].flags = 0; t->desc[0].next = 0;
    txbuf[1] = 1;                    /* gso_type TCPV4, never negotiated */
    kick_tx();
    t->desc[0].addr = (u64)txbuf; t->desc[0].len = HDR + 60; t->desc[0].flags = 1; t->desc[0].next = 1;
    t->desc[1].addr = (u64)scratch; t->desc[1].len = sizeof(scratch); t->desc[1].flags = 2; t->desc[1].next = 0;
    memset(txbuf, 0, HDR);
    kick_tx();                       /* a device-writable buffer in a TX chain */
    puts_("hostile frames returned\n");
}

void guest_main(void) {
    static u8 frame[RXLEN];
    addresses_from_cmdline();
    if (mmio_r(0x00) != 0x74726976 || mmio_r(0x04) != 2) fail(10);
    if (mmio_r(0x08) != 1) fail(12);
    mmio_w(0x70, 0); mmio_w(0x70, 1); mmio_w(0x70, 3);
    mmio_w(0x14, 0);
    u32 low = mmio_r(0x10);
    mmio_w(0x14, 1);
    if (!(mmio_r(0x10) & 1) || !(low & (1u << 5))) fail(13);
    mmio_w(0x24, 1); mmio_w(0x20, 1); mmio_w(0x24, 0); mmio_w(0x20, 1u << 5);
    mmio_w(0x70, 0xb);
    if (!(mmio_r(0x70) & 8)) fail(14);
    for (int i = 0; i < 6; i++) mac[i] = *(volatile u8 *)(BASE + 0x100 + i);
    for (u32 i = 0; i < 2; i++) setup_queue(i);
    mmio_w(0x70, 0xf);
    q[0].avail.flags = 1; /* VRING_AVAIL_F_NO_INTERRUPT: this driver polls its RX ring */
    for (u16 i = 0; i < QS; i++) {
        q[0].desc[i].addr = (u64)rxbuf[i]; q[0].desc[i].len = RXLEN; q[0].desc[i].flags = 2; q[0].desc[i].next = 0;
        post_rx(i);
    }

    hostile_frames();

    send_arp(1, 0, host_ip);
    for (;;) {
        receive(frame);
        const u8 *a = frame + 14;
        if (be16(frame + 12) == 0x0806 && be16(a + 6) == 2 && same(a + 14, host_ip, 4) && same(a + 24, guest_ip, 4)) {
            memcpy(host_mac, a + 8, 6);
            break;
        }
    }
    puts_("arp reply from "); put_ip(host_ip); puts_("\n");

    send_udp("hello from guest net", 20);
    puts_("ready\n");

    for (;;) {
        u32 n = receive(frame);
        u8 *p = frame + 14;
        if (be16(frame + 12) == 0x0806) {
            if (be16(p + 6) == 1 && same(p + 24, guest_ip, 4)) send_arp(2, p + 8, p + 14);
            continue;
        }
        if (be16(frame + 12) != 0x0800 || (p[0] >> 4) != 4 || p[9] != 17 || !same(p + 16, guest_ip, 4)) continue;
        u32 ihl = (p[0] & 0xf) * 4u;
        u8 *udp = p + ihl;
        if (n < 14 + ihl + 8 || be16(udp + 2) != 7000) continue;

        /* Swapping addresses and ports keeps both checksums valid. */
        u8 t[6];
        memcpy(frame, frame + 6, 6); memcpy(frame + 6, mac, 6);
        memcpy(t, p + 12, 4); memcpy(p + 12, p + 16, 4); memcpy(p + 16, t, 4);
        memcpy(t, udp, 2); memcpy(udp, udp + 2, 2); memcpy(udp + 2, t, 2);
        memcpy(txbuf + HDR, frame, n);
        send(n);
        if (n >= 14 + ihl + 8 + 3 && udp[8] == 'b' && udp[9] == 'y' && udp[10] == 'e') break;
    }

    puts_("echo done\n");
    for (;;) outb(0xf4, 1);
}
