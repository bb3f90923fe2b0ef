// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.Hostile;

/// <summary>
/// The hostile tenants of issue 13 (docs/reliability.md), each a nexus-mode Python function, and the victim whose
/// latency they must not ruin. The raw-channel attacks map fd 3 themselves and write records the way a malicious
/// runtime would, bypassing the well-behaved nexus_channel module.
/// </summary>
public static class HostileTenants
{
    /// <summary>Read access to the examples' hello-s3 inputs (seeded by examples/seed_inputs.py).</summary>
    private const string ReadsHello = "storage:\n  - bucket: nexus-examples\n    prefix: hello-s3/\n    access: read\n";

    // The channel's header fields and record layout (docs/channel.md), for the attacks that write records themselves.
    private const string RawChannel = """
        import mmap, os, struct, time
        REC = struct.Struct("<QHHiQIIQII16x")
        HEAD_OBJECT = 3
        KEY = b'{"Bucket":"nexus-examples","Key":"hello-s3/input/hello.txt"}'

        _fds = []

        def channel_fds():
            # A container gets the region as fd 3 and the to-host doorbell as fd 4; a microVM has one device for both.
            # Looked up at the first call, in the instance: an import may run in a template before the channel exists.
            if not _fds:
                device = os.environ.get("NEXUS_CHANNEL_DEVICE")
                if device:
                    fd = os.open(device, os.O_RDWR)
                    _fds.extend((fd, os.lseek(fd, 0, os.SEEK_END), fd))
                else:
                    _fds.extend((3, os.fstat(3).st_size, 4))
            return _fds

        def ring():
            os.eventfd_write(channel_fds()[2], 1)

        def mapped():
            fd, size, _ = channel_fds()
            return mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE), size

        def region():
            mm = mapped()[0]
            entries = struct.unpack_from("<I", mm, 16)[0]
            sub_off = struct.unpack_from("<Q", mm, 24)[0]
            req_off = struct.unpack_from("<Q", mm, 40)[0]
            mm[req_off:req_off + len(KEY)] = KEY
            return mm, entries, sub_off, req_off

        def u32(mm, at):
            return struct.unpack_from("<I", mm, at)[0]

        def store_u32(mm, at, value):
            # One aligned 4-byte store, as nexus_channel's: struct.pack_into zero-fills the field before writing it,
            # and the host may read that 0 and close the channel for an impossible index (not the defence under test).
            memoryview(mm)[at:at + 4].cast("I")[0] = value

        def publish(mm, entries, sub_off, req_off, tail, rid):
            REC.pack_into(mm, sub_off + (tail & (entries - 1)) * 64, rid, HEAD_OBJECT, 0, 0, req_off, len(KEY), len(KEY), 0, 0xFFFFFFFF, 0)
            return (tail + 1) & 0xFFFFFFFF

        """;

    /// <summary>
    /// The victim: one storage call and a small result, the kind of invocation whose p99 is measured. It asks for a whole
    /// CPU (as the examples do), so that its own quota is not what its latency measures.
    /// </summary>
    public static HostileTenant Victim { get; } = new(
        "victim",
        "none: reads its 1 KiB input and answers",
        "name: victim\nhandler: handler.handler\nio: nexus\ncpus: 1\n" + ReadsHello,
        """
        import boto3
        s3 = boto3.client("s3")

        def handler(event, context):
            body = s3.get_object(Bucket="nexus-examples", Key="hello-s3/input/hello.txt")["Body"].read()
            return {"bytes": len(body)}
        """,
        "{}",
        null);

    public static IReadOnlyList<HostileTenant> All { get; } =
    [
        new(
            "ring-flood",
            "publishes HeadObject records as fast as the host drains them and never reads a completion",
            "name: ring-flood\nhandler: handler.handler\nio: nexus\ntimeout: 10\n" + ReadsHello,
            RawChannel + """
            def handler(event, context):
                mm, entries, sub_off, req_off = region()
                tail, rid, sent = u32(mm, 128), 1 << 40, 0
                until = time.monotonic() + event.get("seconds", 8)
                while time.monotonic() < until and not u32(mm, 512):
                    head = u32(mm, 192)
                    while (tail - head) & 0xFFFFFFFF < entries - 16:
                        tail, rid, sent = publish(mm, entries, sub_off, req_off, tail, rid), rid + 1, sent + 1
                    store_u32(mm, 128, tail)
                    ring()
                return {"sent": sent, "host_closed": bool(u32(mm, 512))}
            """,
            """{"seconds": 8}""",
            "Runtime.ExitError"),
        new(
            "slot-hoard",
            "GETs objects and never reads or closes a body, so every response slot stays lent to it",
            "name: slot-hoard\nhandler: handler.handler\nio: nexus\ntimeout: 3\n" + ReadsHello,
            """
            import boto3
            s3 = boto3.client("s3")

            def handler(event, context):
                held = []
                while True:
                    held.append(s3.get_object(Bucket="nexus-examples", Key="hello-s3/input/hello.txt")["Body"])
            """,
            "{}",
            "Sandbox.Timedout"),
        new(
            "completion-ignore",
            "submits 200 HeadObjects (below the outstanding cap) and never reads a completion",
            "name: completion-ignore\nhandler: handler.handler\nio: nexus\ntimeout: 3\n" + ReadsHello,
            RawChannel + """
            def handler(event, context):
                mm, entries, sub_off, req_off = region()
                tail, rid = u32(mm, 128), 1 << 40
                for _ in range(200):
                    while (tail - u32(mm, 192)) & 0xFFFFFFFF >= entries:
                        time.sleep(0.001)
                    tail, rid = publish(mm, entries, sub_off, req_off, tail, rid), rid + 1
                    store_u32(mm, 128, tail)
                    ring()
                time.sleep(3600)
            """,
            "{}",
            "Sandbox.Timedout"),
        new(
            "fork-bomb",
            "starts processes that pause until the sandbox is stopped, as fast as it can, until the kernel refuses one, at most 600",
            "name: fork-bomb\nhandler: handler.handler\nio: nexus\ntimeout: 20\nmemory: 256\n",
            """
            import ctypes, mmap, os, signal, time

            libc = ctypes.CDLL(None, use_errno=True)
            libc.clone.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
            CLONE_VM, SYS_PAUSE, STACK = 0x100, 34, 16 << 10
            PAUSE = ctypes.cast(libc.syscall, ctypes.c_void_p)  # syscall(SYS_PAUSE): pause() with no libc state touched
            # Each process runs on a stack in these regions; they are never freed while one may still run on it.
            stacks = []

            def handler(event, context):
                # clone(CLONE_VM) without exec: a process of its own (its own pid, counted by pids.max) that shares this
                # one's memory, so that starting it copies no page tables and maps no program. Each costs the tenant's
                # CPU quota a fraction of a posix_spawn of /bin/sleep (5 ms on this machine), so the bomb reaches the
                # pids limit in seconds, not in most of its timeout.
                limit = event.get("max", 600)
                region = mmap.mmap(-1, limit * STACK)
                stacks.append(region)
                base = ctypes.addressof(ctypes.c_char.from_buffer(region))
                start, started = time.monotonic(), 0
                while started < limit:
                    if libc.clone(PAUSE, base + (started + 1) * STACK, CLONE_VM | signal.SIGCHLD, SYS_PAUSE) < 0:
                        e = ctypes.get_errno()
                        raise OSError(e, f"{os.strerror(e)}: process {started + 1} refused after {time.monotonic() - start:.2f} s")
                    started += 1
                return {"started": started, "seconds": round(time.monotonic() - start, 2)}
            """,
            """{"max": 600}""",
            "BlockingIOError"),
        new(
            "fail-fast",
            "raises at once, so the attack re-sends it without pause: the node's invoke path is what it floods",
            "name: fail-fast\nhandler: handler.handler\nio: nexus\n",
            """
            def handler(event, context):
                raise RuntimeError("fail-fast")
            """,
            "{}",
            "RuntimeError"),
        new(
            "tmp-fill",
            "writes 1 MiB blocks to /tmp until the write fails, at most 96 MiB",
            "name: tmp-fill\nhandler: handler.handler\nio: nexus\ntimeout: 20\nmemory: 256\n",
            """
            import os

            def handler(event, context):
                block = b"x" * (1 << 20)
                written = 0
                try:
                    with open("/tmp/fill", "wb") as f:
                        while written < event.get("max_mb", 96):
                            f.write(block)
                            f.flush()
                            written += 1
                finally:
                    print(f"tmp-fill: wrote {written} MiB")
                    try:
                        os.unlink("/tmp/fill")
                    except OSError:
                        pass
                return {"written_mb": written}
            """,
            """{"max_mb": 96}""",
            "OSError"),
        new(
            "cpu-spin",
            "spins in two processes for 2 s and reports the CPU time they got",
            "name: cpu-spin\nhandler: handler.handler\nio: nexus\ntimeout: 10\nmemory: 256\n",
            """
            import os, time

            def spin(until):
                while time.monotonic() < until:
                    pass

            def used():
                t = os.times()
                return t.user + t.system + t.children_user + t.children_system

            def handler(event, context):
                start, before = time.monotonic(), used()
                until = start + event.get("seconds", 2)
                child = os.fork()
                if child == 0:
                    spin(until)
                    os._exit(0)
                spin(until)
                os.waitpid(child, 0)
                return {"cpu": round(used() - before, 3), "wall": round(time.monotonic() - start, 3)}
            """,
            """{"seconds": 2}""",
            null),
        // Its first touches of 128 MB at 0.072 CPU took 5.9-11.5 s as the load grew: the timeout leaves it room to end
        // at its memory limit, which is what it attacks, not at its timeout.
        new(
            "memory-hog",
            "allocates 16 MiB blocks without end",
            "name: memory-hog\nhandler: handler.handler\nio: nexus\ntimeout: 60\nmemory: 128\n",
            """
            def handler(event, context):
                blocks = []
                while True:
                    blocks.append(bytearray(16 << 20))
            """,
            "{}",
            "Runtime.OutOfMemory"),
        new(
            "doorbell-storm",
            "rings the host's doorbell 10,000 times a second for 2 s with nothing in its ring",
            "name: doorbell-storm\nhandler: handler.handler\nio: nexus\ntimeout: 10\n",
            RawChannel + """
            def handler(event, context):
                rate, seconds = event.get("rate", 10000), event.get("seconds", 2)
                start, rang = time.monotonic(), 0
                while (elapsed := time.monotonic() - start) < seconds:
                    while rang < int(elapsed * rate):
                        ring()
                        rang += 1
                    time.sleep(0.0005)
                return {"rang": rang, "seconds": round(time.monotonic() - start, 3)}
            """,
            """{"rate": 10000, "seconds": 2}""",
            null),
        // Overwrites the header with the host's own ring positions, both rings and the start of the request area.
        new(
            "scribble",
            "overwrites the first MiB of its region with pseudo-random bytes, rings, and sleeps",
            "name: scribble\nhandler: handler.handler\nio: nexus\ntimeout: 10\n",
            RawChannel + """
            import random

            def handler(event, context):
                mm, size = mapped()
                size = min(size, 1 << 20)
                mm[0:size] = random.Random(event.get("seed", 13)).randbytes(size)
                ring()
                time.sleep(3600)
            """,
            """{"seed": 13}""",
            "Runtime.ExitError"),
    ];

    public static HostileTenant Get(string name) =>
        All.FirstOrDefault(t => t.Name == name) ?? throw new ArgumentException($"no hostile tenant '{name}' (known: {string.Join(", ", All.Select(t => t.Name))})", nameof(name));
}
