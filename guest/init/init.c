// Copyright (c) Nexus contributors.
// Licensed under the MIT license.
//
// nexus-init: PID 1 of a Nexus Linux guest (docs/vmm.md, "The Linux guest"). It is the kernel's built-in initramfs
// (guest/kernel/build.sh links it into vmlinux), so the guest root stays the function image unchanged.
//
//   /dev/vda (nexus_init.root=)  the guest root: erofs of the function image, read-only
//   /dev/vdb (nexus_init.code=)  the code drive (GuestDisks.BuildCodeDriveAsync), erofs:
//                                  task/    the function folder, mounted at /var/task
//                                  argv     the runtime's command line, NUL-separated
//                                  environ  its environment, NUL-separated KEY=VALUE (no credentials)
//   nexus_init.tmp=<MiB>         size of the writable /tmp (tmpfs), default 64
//
// It mounts the root with /proc, /sys, /dev (devtmpfs), /tmp and /var/task inside, moves into it, starts the runtime as
// uid/gid 65534 (as the oci driver does) with no new privileges, reaps orphans, and when the runtime exits prints how
// and ends the VM: the status goes to the VMM's exit port 0xf4 (the code a Nexus test guest ends with; qemu's
// isa-debug-exit there too), then a reboot (reboot=k: the i8042 reset ends a Nexus VM). A failure of init itself
// ends the VM with status 125, a runtime the kernel's OOM killer ended with 251.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUNTIME_ID 65534
#define EXIT_PORT 0xf4
#define INIT_FAILED 125
// The runtime was killed by the guest kernel's OOM killer: the guest ran out of the function's memory
// (MicrovmSandboxInstance reports it as Runtime.OutOfMemory).
#define RUNTIME_OUT_OF_MEMORY 251
#define MAX_LIST (256 * 1024)

static void say(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("nexus-init: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
}

static _Noreturn void end_vm(int status)
{
    sync();
    if (ioperm(EXIT_PORT, 1, 1) == 0)
        outb((unsigned char)status, EXIT_PORT);
    reboot(RB_AUTOBOOT);
    for (;;)
        pause();
}

static _Noreturn void fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("nexus-init: ", stderr);
    vfprintf(stderr, format, args);
    fprintf(stderr, " (%s)\n", strerror(errno));
    va_end(args);
    end_vm(INIT_FAILED);
}

static void must_mount(const char *source, const char *target, const char *type, unsigned long flags, const char *data)
{
    if (mount(source, target, type, flags, data) != 0)
        fail("cannot mount %s (%s) on %s", source, type, target);
}

// The value of NAME=value on the kernel command line, copied into OUT; DEFAULT when absent.
static const char *cmdline_value(const char *cmdline, const char *name, char *out, size_t size, const char *fallback)
{
    size_t length = strlen(name);
    for (const char *p = cmdline; *p;) {
        while (*p == ' ' || *p == '\n')
            p++;
        const char *end = p + strcspn(p, " \n");
        if ((size_t)(end - p) > length && strncmp(p, name, length) == 0 && p[length] == '=') {
            size_t value = (size_t)(end - p) - length - 1;
            if (value >= size)
                value = size - 1;
            memcpy(out, p + length + 1, value);
            out[value] = '\0';
            return out;
        }
        p = end;
    }
    return fallback;
}

// Reads a NUL-separated list (at most MAX_LIST bytes) into a NULL-terminated array.
static char **read_list(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail("cannot open %s", path);
    char *data = malloc(MAX_LIST + 1);
    size_t used = 0;
    ssize_t n;
    while (data && used < MAX_LIST && (n = read(fd, data + used, MAX_LIST - used)) > 0)
        used += (size_t)n;
    close(fd);
    if (!data || used == MAX_LIST)
        fail("%s is larger than %d bytes", path, MAX_LIST);
    data[used] = '\0';
    size_t count = 0;
    for (size_t i = 0; i < used; i++)
        count += data[i] == '\0';
    char **list = calloc(count + 2, sizeof(char *));
    if (!list)
        fail("out of memory");
    size_t item = 0;
    for (size_t i = 0; i < used; i += strlen(data + i) + 1)
        list[item++] = data + i;
    return list;
}

// How many processes the guest kernel's OOM killer has killed since boot (/proc/vmstat oom_kill); 0 if unreadable.
static long oom_kills(void)
{
    FILE *vmstat = fopen("/proc/vmstat", "re");
    char line[128];
    long kills = 0;
    while (vmstat && fgets(line, sizeof(line), vmstat))
        if (sscanf(line, "oom_kill %ld", &kills) == 1)
            break;
    if (vmstat)
        fclose(vmstat);
    return kills;
}

static void mount_guest(const char *cmdline)
{
    char root[64], code[64], tmp_mib[16], tmp_options[64];
    const char *source_root = cmdline_value(cmdline, "nexus_init.root", root, sizeof(root), "/dev/vda");
    const char *source_code = cmdline_value(cmdline, "nexus_init.code", code, sizeof(code), "/dev/vdb");
    const char *tmp = cmdline_value(cmdline, "nexus_init.tmp", tmp_mib, sizeof(tmp_mib), "64");
    char *end;
    unsigned long mib = strtoul(tmp, &end, 10);
    if (*end || mib == 0) {
        errno = EINVAL;
        fail("nexus_init.tmp=%s is not a size in MiB", tmp);
    }

    mkdir("/newroot", 0755);
    mkdir("/code", 0755);
    must_mount(source_root, "/newroot", "erofs", MS_RDONLY | MS_NODEV, NULL);
    must_mount(source_code, "/code", "erofs", MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
    must_mount("/code/task", "/newroot/var/task", NULL, MS_BIND, NULL);
    // A bind mount takes its flags only when remounted.
    must_mount(NULL, "/newroot/var/task", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
    snprintf(tmp_options, sizeof(tmp_options), "size=%lum,mode=1777", mib);
    must_mount("tmpfs", "/newroot/tmp", "tmpfs", MS_NOSUID | MS_NODEV, tmp_options);
    must_mount("proc", "/newroot/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    must_mount("sysfs", "/newroot/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    must_mount("/dev", "/newroot/dev", NULL, MS_MOVE, NULL);
    say("root %s, code %s at /var/task, /tmp %lu MiB", source_root, source_code, mib);
}

static void enter_root(void)
{
    if (chdir("/newroot") != 0)
        fail("cannot enter /newroot");
    must_mount(".", "/", NULL, MS_MOVE, NULL);
    if (chroot(".") != 0 || chdir("/") != 0)
        fail("cannot change root");
}

static pid_t start_runtime(char **argv, char **envp)
{
    if (!argv[0]) {
        errno = EINVAL;
        fail("the code drive's argv is empty");
    }
    // The runtime opens the region as the uid it runs as; the node's eventfds and memfd belong to it in a container.
    if (chown("/dev/nexus-region", RUNTIME_ID, RUNTIME_ID) != 0 && errno != ENOENT)
        fail("cannot hand /dev/nexus-region to the runtime");
    pid_t pid = fork();
    if (pid < 0)
        fail("fork");
    if (pid > 0)
        return pid;

    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || setsid() < 0 || setgroups(0, NULL) != 0 || setgid(RUNTIME_ID) != 0 ||
        setuid(RUNTIME_ID) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || chdir("/var/task") != 0) {
        say("cannot prepare the runtime's process: %s", strerror(errno));
        _exit(INIT_FAILED);
    }
    if (null > 2)
        close(null);
    // execvp looks argv[0] up in the PATH of the environment it runs in: the runtime's.
    environ = envp;
    execvp(argv[0], argv);
    say("cannot run %s: %s", argv[0], strerror(errno));
    _exit(INIT_FAILED);
}

int main(void)
{
    if (getpid() != 1) {
        fprintf(stderr, "nexus-init: runs only as PID 1 of a Nexus guest\n");
        return 2;
    }
    must_mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    mkdir("/proc", 0555);
    must_mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    static char cmdline[4096];
    int fd = open("/proc/cmdline", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, cmdline, sizeof(cmdline) - 1);
    if (n < 0)
        fail("cannot read /proc/cmdline");
    close(fd);
    umount("/proc");

    mount_guest(cmdline);
    char **argv = read_list("/code/argv");
    char **envp = read_list("/code/environ");
    enter_root();

    pid_t runtime = start_runtime(argv, envp);
    for (;;) {
        int status;
        pid_t pid = wait(&status);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            fail("wait");
        if (pid != runtime)
            continue;
        if (WIFEXITED(status)) {
            say("runtime exited with status %d", WEXITSTATUS(status));
            end_vm(WEXITSTATUS(status));
        }
        if (WTERMSIG(status) == SIGKILL && oom_kills() > 0) {
            say("runtime killed by the kernel's OOM killer: out of memory");
            end_vm(RUNTIME_OUT_OF_MEMORY);
        }
        say("runtime killed by signal %d", WTERMSIG(status));
        end_vm(128 + WTERMSIG(status));
    }
}
