// Copyright (c) Nexus contributors.
// Licensed under the MIT license.
//
// Test init for LinuxGuestRestoreTests (static, PID 1 from a test drive): proves the region driver applies a restore
// record on the wake after a restore, once. The host staged two records it encoded in the region (after the header
// page); here, while this process sleeps in read() as the runtime does at the ready point, a child plays the restore:
// it copies a staged record into the header page and raises the region's interrupt through the second UART wired to
// IOAPIC input 10 (as region_interrupt.c does). Prints RESULT lines; ends the VM through the exit port.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define UART 0x2f8
#define IER 1
#define IIR 2
#define RECORD 1024
#define RECORD_SIZE 3072
#define STAGED_VALID 8192
#define STAGED_OTHER_VERSION 12288
#define MAP_SIZE 16384
#define Y2040 2208988800LL

static void end(int status)
{
    fflush(stdout);
    outb((unsigned char)status, 0xf4);
    _exit(status);
}

static void edge(void)
{
    outb(0x02, UART + IER);
    (void)inb(UART + IIR);
    outb(0x00, UART + IER);
}

// Sleeps in read() while a child puts the staged record in place and raises the interrupt.
static void restore_from(int fd, unsigned char *region, size_t staged)
{
    pid_t child = fork();
    if (child == 0) {
        struct timespec pause = { .tv_sec = 0, .tv_nsec = 300 * 1000 * 1000 };
        nanosleep(&pause, NULL);
        memcpy(region + RECORD, region + staged, RECORD_SIZE);
        edge();
        _exit(0);
    }
    uint64_t count = 0;
    ssize_t n = read(fd, &count, sizeof(count));
    waitpid(child, NULL, 0);
    printf("RESULT read returned %zd count=%llu\n", n, (unsigned long long)count);
}

static void report(const char *when, const unsigned char *region)
{
    uint64_t applied;
    memcpy(&applied, region + RECORD + 56, sizeof(applied));
    int wiped = 1;
    for (int i = 0; i < 32; i++)
        wiped &= region[RECORD + 24 + i] == 0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long since = (long long)now.tv_sec - Y2040;
    printf("clock %lld s after 2040-01-01\n", since);
    printf("RESULT %s applied=%016llx seed wiped=%d clock in 2040's first 2 minutes=%d\n", when,
           (unsigned long long)applied, wiped, since >= 0 && since < 120);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (ioperm(UART, 8, 1) != 0 || ioperm(0xf4, 1, 1) != 0) {
        printf("RESULT ioperm failed: %s\n", strerror(errno));
        return 1;
    }
    // A blocking getrandom waits for the CRNG to be ready, as it is in a guest whose Python has started.
    unsigned char bytes[16];
    if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes)) {
        printf("RESULT getrandom failed: %s\n", strerror(errno));
        end(1);
    }
    int fd = open("/dev/nexus-region", O_RDWR);
    unsigned char *region = fd < 0 ? MAP_FAILED : mmap(NULL, MAP_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (region == MAP_FAILED) {
        printf("RESULT open or mmap failed: %s\n", strerror(errno));
        end(1);
    }
    report("before", region);
    restore_from(fd, region, STAGED_VALID);
    report("restored", region);
    restore_from(fd, region, STAGED_OTHER_VERSION);
    report("other version", region);
    end(0);
}
