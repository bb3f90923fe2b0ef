/* What page faults cost, split into their parts, for a guest kernel (docs/vmm.md, "The Nexus guest kernel as a pv-lite
   guest"): under the pv-lite host a fault the guest kernel handles is injected by the host, while touching a page the
   guest has already mapped (MAP_POPULATE) costs only the host's shadow fill. 16 MiB per case, one access per page,
   times per page. Also getppid (an exit-free system call), fork+exit and fork+exec of /bin/true.
   Build: gcc -O2 -static benchmarks/pvm/fault-cost.c -o fault-cost (benchmarks/pvm/fault-image.sh puts it in a guest
   image); it runs anywhere, so the same binary gives the host's figures. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIZE (16u << 20)
#define PAGES (SIZE / 4096)

static volatile char sink;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void write_each(char *p)
{
    for (size_t i = 0; i < SIZE; i += 4096)
        p[i] = 1;
}

static void read_each(char *p)
{
    for (size_t i = 0; i < SIZE; i += 4096)
        sink = p[i];
}

static void report(const char *what, double started)
{
    printf("fault-cost: %-30s %8.2f us/page\n", what, (now() - started) * 1e6 / PAGES);
}

/* One access per page of p, timed. */
static void timed(const char *what, void (*access)(char *), char *p)
{
    double started = now();
    access(p);
    report(what, started);
}

static char *anonymous(int flags)
{
    return mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
}

int main(void)
{
    double t = now();
    for (int i = 0; i < 20000; i++)
        syscall(SYS_getppid);
    printf("fault-cost: getppid %.2f us\n", (now() - t) / 20000 * 1e6);

    char *p = anonymous(0);
    timed("anonymous write fault", write_each, p);
    timed("anonymous, mapped (no fault)", write_each, p);
    madvise(p, SIZE, MADV_DONTNEED);
    timed("anonymous after MADV_DONTNEED", write_each, p);
    munmap(p, SIZE);

    p = anonymous(0);
    timed("anonymous read fault", read_each, p);
    timed("write after the read", write_each, p);
    munmap(p, SIZE);

    t = now();
    p = anonymous(MAP_POPULATE);
    report("mmap with MAP_POPULATE", t);
    timed("first touch after MAP_POPULATE", write_each, p);
    munmap(p, SIZE);

    /* The page cache is warm: the file was just written through a shared mapping. */
    int fd = open("/tmp/fault-cost.dat", O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0 && ftruncate(fd, SIZE) == 0) {
        p = mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        write_each(p);
        munmap(p, SIZE);
        p = mmap(0, SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
        timed("file read fault (cached)", read_each, p);
        munmap(p, SIZE);
        p = mmap(0, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        timed("file private write (cached)", write_each, p);
        munmap(p, SIZE);
        close(fd);
        unlink("/tmp/fault-cost.dat");
    }

    t = now();
    for (int i = 0; i < 50; i++) {
        pid_t child = fork();
        if (!child)
            _exit(0);
        waitpid(child, 0, 0);
    }
    printf("fault-cost: fork+exit+wait %.1f us\n", (now() - t) / 50 * 1e6);
    t = now();
    for (int i = 0; i < 20; i++) {
        pid_t child = fork();
        if (!child) {
            execl("/bin/true", "true", (char *)0);
            _exit(1);
        }
        waitpid(child, 0, 0);
    }
    printf("fault-cost: fork+exec+wait %.1f us\n", (now() - t) / 20 * 1e6);
    return 0;
}
