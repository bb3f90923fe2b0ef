// Copyright (c) Nexus contributors.
// Licensed under the MIT license.
//
// nexus-ubench: the micro-benchmarks of `nexus vmm bench --linux` (src/Nexus.Bench/Vmm/LinuxBench.cs), run the same way
// in a Linux guest and on the host. Static, so it needs nothing from the root it runs in.
//
//   in the guest: nexus-init starts it from the code drive (/var/task/nexus-ubench) as uid 65534, on the function
//                 image's root; its first line is the mark the host times "VM creation to user space" by
//   on the host:  nexus-ubench --root ROOTFS --task DIR: a private mount namespace with DIR bound at ROOTFS/var/task,
//                 tmpfs /tmp and /proc, chroot into ROOTFS, uid 65534: the same files and user as the guest's
//
// Every result is one line "nexus-ubench: NAME VALUE UNIT" on stdout; python3 runs /var/task/hello_warm.py, which
// prints its own line. Exit status 0 when everything ran.
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOBODY 65534
#define SYSCALLS 20000
#define FAULT_BYTES (16u << 20)
#define FORKS 50
#define EXECS 20
#define ROUND_TRIPS 2000
#define PYTHONS 7

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "nexus-ubench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, int count)
{
    qsort(values, (size_t)count, sizeof *values, by_value);
    return values[count / 2];
}

// Runs ARGV to its end; exits on a failure, so no figure is printed for a program that did not run.
static void run(char *const argv[])
{
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "nexus-ubench: %s failed (status 0x%x)\n", argv[0], status);
        exit(1);
    }
}

// The host side: the guest's view of the same files (see the header).
static void enter_root(const char *root, const char *task)
{
    char target[4096];
    if (unshare(CLONE_NEWNS) != 0)
        die("unshare(CLONE_NEWNS)");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        die("mount --make-rprivate /");
    snprintf(target, sizeof target, "%s/var/task", root);
    if (mount(task, target, NULL, MS_BIND, NULL) != 0)
        die("bind the task folder");
    snprintf(target, sizeof target, "%s/tmp", root);
    if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, "size=64m") != 0)
        die("mount /tmp");
    snprintf(target, sizeof target, "%s/proc", root);
    if (mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
        die("mount /proc");
    if (chroot(root) != 0 || chdir("/") != 0)
        die("chroot");
    if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
        die("drop to uid 65534");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && strcmp(argv[1], "--root") == 0 && strcmp(argv[3], "--task") == 0)
        enter_root(argv[2], argv[4]);
    else if (argc != 1) {
        fprintf(stderr, "usage: nexus-ubench [--root ROOTFS --task DIR]\n");
        return 2;
    }
    printf("nexus-ubench: user-space 1 mark\n");

    // A system call that does no work: the entry and return cost.
    double t = now();
    for (int i = 0; i < SYSCALLS; i++)
        syscall(SYS_getppid);
    printf("nexus-ubench: getppid %.3f us\n", (now() - t) / SYSCALLS * 1e6);

    // One write per page of fresh anonymous memory: one page fault each.
    char *p = mmap(NULL, FAULT_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap");
    t = now();
    for (size_t i = 0; i < FAULT_BYTES; i += 4096)
        p[i] = 1;
    printf("nexus-ubench: page-fault %.3f us\n", (now() - t) / (FAULT_BYTES / 4096) * 1e6);
    munmap(p, FAULT_BYTES);

    t = now();
    for (int i = 0; i < FORKS; i++) {
        pid_t child = fork();
        if (child == 0)
            _exit(0);
        if (child < 0 || waitpid(child, NULL, 0) != child)
            die("fork");
    }
    printf("nexus-ubench: fork-exit %.3f us\n", (now() - t) / FORKS * 1e6);

    // A byte to a child process and back through two pipes: two context switches, each between address spaces, and
    // each return to user space restoring the FPU registers of the task switched to.
    int there[2], back[2];
    char byte = 0;
    if (pipe(there) != 0 || pipe(back) != 0)
        die("pipe");
    pid_t echo = fork();
    if (echo < 0)
        die("fork");
    if (echo == 0) {
        close(there[1]); // the parent's close is the end
        while (read(there[0], &byte, 1) == 1 && write(back[1], &byte, 1) == 1)
            ;
        _exit(0);
    }
    t = now();
    for (int i = 0; i < ROUND_TRIPS; i++)
        if (write(there[1], &byte, 1) != 1 || read(back[0], &byte, 1) != 1)
            die("pipe round trip");
    printf("nexus-ubench: pipe-round-trip %.3f us\n", (now() - t) / ROUND_TRIPS * 1e6);
    close(there[1]);
    waitpid(echo, NULL, 0);
    close(there[0]);
    close(back[0]);
    close(back[1]);

    char *true_argv[] = {"/bin/true", NULL};
    t = now();
    for (int i = 0; i < EXECS; i++)
        run(true_argv);
    printf("nexus-ubench: exec-true %.3f us\n", (now() - t) / EXECS * 1e6);

    // Each start separately, the median printed: one start is long enough to time alone, and the median drops a
    // start that another job on the machine slowed.
    char *python_argv[] = {"/usr/bin/python3", "-c", "pass", NULL};
    double starts[PYTHONS];
    for (int i = 0; i < PYTHONS; i++) {
        t = now();
        run(python_argv);
        starts[i] = now() - t;
    }
    printf("nexus-ubench: python-pass %.3f ms\n", median(starts, PYTHONS) * 1e3);

    char *hello_argv[] = {"/usr/bin/python3", "/var/task/hello_warm.py", NULL};
    run(hello_argv);
    printf("nexus-ubench: done 1 mark\n");
    return 0;
}
