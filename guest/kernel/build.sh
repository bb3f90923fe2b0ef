#!/bin/sh
# Builds the Nexus guest kernel (uncompressed vmlinux) from Debian's linux-source-6.1 with
# guest/kernel/nexus.config merged onto tinyconfig, the pv-lite guest patch (guest/kernel/pvlite.patch: runs the kernel
# natively under this project's kvm_pvm hosts, docs/vmm.md "PVM guest ABI of this host"; elsewhere it is not detected,
# and the options it needs stay inert: PTI off, PARAVIRT_XXL's call sites patched back to the native instructions), the
# Nexus region driver (guest/driver) built in and nexus-init (guest/init) as its built-in initramfs, cached by a hash of
# every input.
#
#   guest/kernel/build.sh            prints the path of the cached vmlinux, building it if needed
#   guest/kernel/build.sh --cached   prints it only if it is built (exit 3 otherwise: the tests skip then)
#   NEXUS_KERNEL_CACHE=/dir build.sh (default /var/cache/nexus/kernel)
#   NEXUS_KERNEL_JOBS=N              parallel make jobs (default: number of CPUs)
#
# Needs: apt-get install linux-source-6.1 build-essential flex bison bc libelf-dev libssl-dev patch
set -eu

here=$(cd "$(dirname "$0")" && pwd)
fragment="$here/nexus.config"
driver="$here/../driver"
init="$here/../init"
tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n 1 || true)
if [ -z "$tarball" ]; then
    echo "build.sh: /usr/src/linux-source-6.1.tar.* not found; apt-get install linux-source-6.1" >&2
    exit 1
fi
pvlite="$here/pvlite.patch"
# Cache key: the source tarball, the config fragment, this script (which holds the small patches), the pv-lite patch,
# the driver and init.
key=$( (sha256sum "$tarball" "$fragment" "$0" "$pvlite" "$driver"/* "$init"/* | cut -d' ' -f1) | sha256sum | cut -c1-16)
cache=${NEXUS_KERNEL_CACHE:-/var/cache/nexus/kernel}
out="$cache/vmlinux-$key"
if [ -s "$out" ]; then
    echo "$out"
    exit 0
fi
if [ "${1:-}" = "--cached" ]; then
    echo "build.sh: the guest kernel vmlinux-$key is not built: run guest/kernel/build.sh (scripts/setup does)" >&2
    exit 3
fi
for tool in make gcc flex bison bc patch; do
    command -v "$tool" >/dev/null 2>&1 || { echo "build.sh: $tool is missing (apt-get install build-essential flex bison bc)" >&2; exit 1; }
done
[ -e /usr/include/libelf.h ] || { echo "build.sh: libelf.h missing (apt-get install libelf-dev)" >&2; exit 1; }
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || { echo "build.sh: libc.a missing for the static init (apt-get install libc6-dev)" >&2; exit 1; }

mkdir -p "$cache"
work=$(mktemp -d "$cache/build-$key.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A signal exits through the EXIT trap too (the compiler, in this process group, gets the signal itself).
trap 'exit 1' INT TERM HUP
started=$(date +%s)
echo "build.sh: building the guest kernel vmlinux-$key in $work: this takes 10-60 minutes on 2 cores (once per input change)" >&2
echo "build.sh: unpacking $tarball" >&2
tar -xf "$tarball" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n 1)
cd "$src"

# The int3 self-test executes int3 from kernel text; software-only KVM (kvm_pvm) cannot emulate it
# and the boot dies there, so the call is removed. Fail loudly if the source no longer matches.
grep -q '^[[:space:]]*int3_selftest();' arch/x86/kernel/alternative.c || { echo "build.sh: int3_selftest() call not found; update the patch" >&2; exit 1; }
sed -i 's/^\([[:space:]]*\)int3_selftest();/\1\/* int3_selftest(): skipped for software-only KVM (Nexus) *\//' arch/x86/kernel/alternative.c

# add_vmfork_randomness (mix a seed in and reseed the CRNG at once) is built only for the ACPI vmgenid driver, which
# this kernel has no ACPI for; the Nexus driver calls it after a snapshot restore (guest/driver/nexus.c).
for file in drivers/char/random.c include/linux/random.h; do
    grep -q '^#if IS_ENABLED(CONFIG_VMGENID)$' "$file" || { echo "build.sh: the vmgenid guard not found in $file; update the patch" >&2; exit 1; }
    sed -i 's/^#if IS_ENABLED(CONFIG_VMGENID)$/#if IS_ENABLED(CONFIG_VMGENID) || IS_ENABLED(CONFIG_NEXUS_REGION)/' "$file"
done

# The pv-lite guest (arch/x86/kernel/pvlite.c and its hooks: CONFIG_NEXUS_PVLITE_GUEST), a diff against the tree as
# patched above.
patch -p1 --forward --quiet < "$pvlite" || { echo "build.sh: $pvlite does not apply; update it" >&2; exit 1; }

# The driver goes in as drivers/misc/nexus (built in: the kernel has no modules).
mkdir drivers/misc/nexus
cp "$driver"/* drivers/misc/nexus/
echo 'source "drivers/misc/nexus/Kconfig"' >> drivers/misc/Kconfig
echo 'obj-$(CONFIG_NEXUS_REGION) += nexus/' >> drivers/misc/Makefile

# nexus-init, static, is the initramfs's /init (CONFIG_INITRAMFS_SOURCE names this list). /root is where the kernel
# mounts root= when rdinit= names no file (booting another init, as a test does).
gcc -static -Os -Wall -Wextra -Werror -o usr/nexus-init "$init/init.c"
cat > usr/nexus-initramfs.list <<'LIST'
dir /dev 0755 0 0
nod /dev/console 0600 0 0 c 5 1
dir /root 0700 0 0
file /init usr/nexus-init 0755 0 0
LIST

make -s tinyconfig >/dev/null
scripts/kconfig/merge_config.sh -m .config "$fragment" >/dev/null
make -s olddefconfig >/dev/null

# Every option the fragment sets must have survived olddefconfig (a missing dependency drops it).
missing=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$fragment" | while read -r line; do grep -qx "$line" .config || echo "$line"; done)
if [ -n "$missing" ]; then
    echo "build.sh: options dropped by olddefconfig:" >&2
    echo "$missing" >&2
    exit 1
fi

jobs=${NEXUS_KERNEL_JOBS:-$(nproc)}
total=$(find . -name '*.c' | wc -l)
echo "build.sh: compiling with $jobs jobs at nice 19 (progress: objects built; this kernel has about 1000 of the tree's $total sources)" >&2
nice -n 19 make -s -j"$jobs" vmlinux >&2 &
make_pid=$!
while kill -0 "$make_pid" 2>/dev/null; do
    sleep 30
    kill -0 "$make_pid" 2>/dev/null && echo "build.sh: $(find . -name '*.o' | wc -l) objects, $(( $(date +%s) - started )) s" >&2
done
wait "$make_pid"
cp vmlinux "$out.tmp"
cp .config "$out.config"
mv "$out.tmp" "$out"
echo "build.sh: vmlinux-$key built in $(( $(date +%s) - started )) s" >&2
echo "$out"
