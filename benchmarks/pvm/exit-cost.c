/* What a CR3 load costs in this host kernel, which is itself a pv-lite guest of the machine below it (docs/vmm.md,
   "Where it binds"): a pipe round trip between two threads (no address-space switch) against one between two
   processes (two CR3 loads, each a SET_CR3 hypercall to the machine below). Also getpid (an exit-free system call)
   and a user-mode CPUID. Pinned to CPU 0 so every round trip is a context switch.
   Build and run: gcc -O2 -pthread benchmarks/pvm/exit-cost.c -o /tmp/exit-cost && /tmp/exit-cost */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int to_echo[2], from_echo[2];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *echo(void *unused)
{
    char c;
    while (read(to_echo[0], &c, 1) == 1 && write(from_echo[1], &c, 1) == 1) {
    }
    return unused;
}

/* Microseconds per round trip through the echo at the other end of the pipes. */
static double round_trip_us(int n)
{
    char c = 'x';
    double start = now();
    for (int i = 0; i < n; i++) {
        if (write(to_echo[1], &c, 1) != 1 || read(from_echo[0], &c, 1) != 1) {
            perror("pipe");
            exit(1);
        }
    }
    return (now() - start) / n * 1e6;
}

static void open_pipes(void)
{
    if (pipe(to_echo) || pipe(from_echo)) {
        perror("pipe");
        exit(1);
    }
}

int main(void)
{
    cpu_set_t cpu0;
    CPU_ZERO(&cpu0);
    CPU_SET(0, &cpu0);
    if (sched_setaffinity(0, sizeof cpu0, &cpu0)) {
        perror("sched_setaffinity");
        return 1;
    }

    int n = 200000;
    double start = now();
    for (int i = 0; i < n; i++) {
        syscall(SYS_getpid);
    }
    printf("getpid: %.2f us\n", (now() - start) / n * 1e6);

    n = 20000;
    start = now();
    for (int i = 0; i < n; i++) {
        unsigned a = 0, b, c = 0, d;
        __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    }
    printf("cpuid (user mode): %.2f us\n", (now() - start) / n * 1e6);

    open_pipes();
    pthread_t thread;
    pthread_create(&thread, NULL, echo, NULL);
    printf("pipe round trip, two threads: %.2f us\n", round_trip_us(20000));
    close(to_echo[1]);
    pthread_join(thread, NULL);

    open_pipes();
    pid_t pid = fork();
    if (pid == 0) {
        close(to_echo[1]);
        echo(NULL);
        _exit(0);
    }
    printf("pipe round trip, two processes: %.2f us\n", round_trip_us(20000));
    close(to_echo[1]);
    waitpid(pid, NULL, 0);
    return 0;
}
