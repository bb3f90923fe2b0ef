#!/bin/sh
# Builds the Nexus guest kernel (uncompressed vmlinux) from Debian's linux-source-6.1 with
# guest/kernel/nexus.config merged onto tinyconfig, cached by a hash of every input.
#
#   guest/kernel/build.sh            prints the path of the cached vmlinux, building it if needed
#   NEXUS_KERNEL_CACHE=/dir build.sh (default /var/cache/nexus/kernel)
#   NEXUS_KERNEL_JOBS=N              parallel make jobs (default: number of CPUs)
#
# Needs: apt-get install linux-source-6.1 build-essential flex bison bc libelf-dev libssl-dev
set -eu

here=$(cd "$(dirname "$0")" && pwd)
fragment="$here/nexus.config"
tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n 1 || true)
if [ -z "$tarball" ]; then
    echo "build.sh: /usr/src/linux-source-6.1.tar.* not found; apt-get install linux-source-6.1" >&2
    exit 1
fi
for tool in make gcc flex bison bc; do
    command -v "$tool" >/dev/null 2>&1 || { echo "build.sh: $tool is missing (apt-get install build-essential flex bison bc)" >&2; exit 1; }
done
[ -e /usr/include/libelf.h ] || { echo "build.sh: libelf.h missing (apt-get install libelf-dev)" >&2; exit 1; }

# Cache key: the source tarball, the config fragment and this script (which holds the patch).
key=$( (sha256sum "$tarball" "$fragment" "$0" | cut -d' ' -f1) | sha256sum | cut -c1-16)
cache=${NEXUS_KERNEL_CACHE:-/var/cache/nexus/kernel}
out="$cache/vmlinux-$key"
if [ -s "$out" ]; then
    echo "$out"
    exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/build-$key.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "build.sh: building vmlinux-$key in $work (several minutes)" >&2
tar -xf "$tarball" -C "$work"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n 1)
cd "$src"

# The int3 self-test executes int3 from kernel text; software-only KVM (kvm_pvm) cannot emulate it
# and the boot dies there, so the call is removed. Fail loudly if the source no longer matches.
grep -q '^[[:space:]]*int3_selftest();' arch/x86/kernel/alternative.c || { echo "build.sh: int3_selftest() call not found; update the patch" >&2; exit 1; }
sed -i 's/^\([[:space:]]*\)int3_selftest();/\1\/* int3_selftest(): skipped for software-only KVM (Nexus) *\//' arch/x86/kernel/alternative.c

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
nice -n 19 make -s -j"$jobs" vmlinux >&2
cp vmlinux "$out.tmp"
mv "$out.tmp" "$out"
cp .config "$out.config"
echo "$out"
