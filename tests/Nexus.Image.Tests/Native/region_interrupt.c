// Copyright (c) Nexus contributors.
// Licensed under the MIT license.
//
// Test init for LinuxGuestTests (static, PID 1 from a test drive): proves /dev/nexus-region's read and poll wake on the
// region's interrupt. qemu has no KVM irqfd, so the interrupt comes from a second 16550 UART that the test wires to
// IOAPIC input 10 (the region's GSI) and that the guest kernel leaves alone: enabling its "transmitter empty" interrupt
// raises the line, reading its IIR lowers it. Prints RESULT lines; ends the VM through the exit port.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UART 0x2f8
#define IER 1
#define IIR 2

static void end(int status)
{
    fflush(stdout);
    outb((unsigned char)status, 0xf4);
    _exit(status);
}

// One edge on the region's input: raise the UART's interrupt, then clear it.
static void edge(void)
{
    outb(0x02, UART + IER);
    (void)inb(UART + IIR);
    outb(0x00, UART + IER);
}

static int readable(int fd, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (ioperm(UART, 8, 1) != 0 || ioperm(0xf4, 1, 1) != 0) {
        printf("RESULT ioperm failed: %s\n", strerror(errno));
        return 1;
    }
    int fd = open("/dev/nexus-region", O_RDWR);
    if (fd < 0) {
        printf("RESULT open failed: %s\n", strerror(errno));
        end(1);
    }
    printf("RESULT before readable=%d\n", readable(fd, 0));

    // A reader blocked in read() wakes on the first edge.
    pid_t child = fork();
    if (child == 0) {
        uint64_t count = 0;
        ssize_t n = read(fd, &count, sizeof(count));
        printf("RESULT blocked read returned %zd count=%llu\n", n, (unsigned long long)count);
        _exit(0);
    }
    struct timespec pause = { .tv_sec = 0, .tv_nsec = 500 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    int status;
    printf("RESULT reader still blocked=%d\n", waitpid(child, &status, WNOHANG) == 0);
    edge();
    waitpid(child, &status, 0);

    // Two interrupts while nobody reads: poll says readable, one read returns both and resets the count. (Two edges
    // raised before the CPU takes the first are one interrupt, on hardware too: the poll between them lets it in.)
    edge();
    int first = readable(fd, 1000);
    edge();
    printf("RESULT after two edges readable=%d,%d\n", first, readable(fd, 1000));
    uint64_t count = 0;
    ssize_t n = read(fd, &count, sizeof(count));
    printf("RESULT read returned %zd count=%llu readable=%d\n", n, (unsigned long long)count, readable(fd, 0));
    end(0);
}
