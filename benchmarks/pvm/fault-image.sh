#!/bin/sh
# Builds the ext4 root image the pv-lite page-fault figures in docs/vmm.md were measured with: busybox (static), this
# machine's python3.11 with its libraries and standard library, benchmarks/pvm/fault-cost.c (static), and an /init that
# runs fault-cost three times, then `python3 -c pass` 20 times in each of three rounds, timed by /proc/uptime.
#
#   benchmarks/pvm/fault-image.sh /tmp/fault.img
#   ./nexus vmm run --kernel "$(guest/kernel/build.sh)" --mem 256 --rootfs /tmp/fault.img --cmdline "console=ttyS0 \
#     reboot=k panic=1 pci=off nomodule noxsave clearcpuid=smap,smep,popcnt,xsave,avx,avx2,avx512f root=/dev/vda ro \
#     rdinit=/none init=/init"
#
# Needs: apt-get install busybox-static python3.11 e2fsprogs gcc
set -eu
image=${1:?usage: fault-image.sh IMAGE}
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/usr/bin" "$root/usr/lib"
cp /usr/bin/busybox "$root/bin/busybox"
for applet in sh mount reboot cat true; do ln -s busybox "$root/bin/$applet"; done
gcc -O2 -static "$here/fault-cost.c" -o "$root/bin/fault-cost"
cp /usr/bin/python3.11 "$root/usr/bin/python3"
# The interpreter's shared libraries and loader, at the paths it was linked against.
ldd /usr/bin/python3.11 | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
cp -a /usr/lib/python3.11 "$root/usr/lib/"
rm -rf "$root/usr/lib/python3.11/test"

cat > "$root/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t tmpfs tmpfs /tmp
/usr/bin/python3 -c pass
/bin/fault-cost
/bin/fault-cost
/bin/fault-cost
for round in 1 2 3; do
    started=$(cut -d' ' -f1 /proc/uptime)
    i=0
    while [ $i -lt 20 ]; do /usr/bin/python3 -c pass; i=$((i + 1)); done
    echo "fault-image: 20x python3 -c pass: $started -> $(cut -d' ' -f1 /proc/uptime) s"
done
reboot -f
INIT
chmod +x "$root/init"

rm -f "$image"
mkfs.ext4 -q -d "$root" "$image" 200M
echo "$image"
