// SPDX-License-Identifier: MIT
/*
 * Copyright (c) Nexus contributors.
 *
 * The guest end of the Nexus region of a Nexus micro-VM (docs/vmm.md, "The guest driver").
 *
 * The VMM gives the guest a memory slot that is not RAM in e820, a doorbell address that KVM turns into the host's
 * ioeventfd (a 4-byte write, any value), and an IOAPIC input that the host's irqfd raises (edge). It names them on
 * the command line:  nexus.region=<size>@<address>:<gsi> nexus.doorbell=<address>
 *
 * /dev/nexus-region behaves like the eventfd pair plus memfd a container gets, on one descriptor:
 *   mmap (MAP_SHARED)        maps the region (the channel's rings and slots);
 *   write of 8 bytes         rings the doorbell once (the value is not looked at, as the host does not);
 *   read of 8 bytes          blocks until the region's interrupt fired, returns how many times since the last read
 *                            and resets that count (EAGAIN with O_NONBLOCK);
 *   poll                     readable while that count is not zero, always writable;
 *   lseek(0, SEEK_END)       the region's size.
 *
 * The kernel reads one thing in the region: the restore record the host writes into the header page before a VM
 * restored from a snapshot runs (docs/channel.md, "Restore record"). Every VM restored from one snapshot resumes with
 * the same CRNG state and the snapshot's wall clock; the record carries a fresh seed from the host's CSPRNG and the
 * host's wall clock. A new record (a sequence other than the last one applied) is applied in open and in a read that
 * returns interrupts, i.e. before user space can look at the channel the restore attached: the seed is mixed in and the
 * CRNG reseeded at once (add_vmfork_randomness), the wall clock is stepped, the seed is wiped from the region and the
 * sequence is written back as applied.
 */

#define pr_fmt(fmt) "nexus: " fmt

#include <linux/fs.h>
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/random.h>
#include <linux/string.h>
#include <linux/time64.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <asm/io_apic.h>
#include <asm/processor.h>

#define NEXUS_USAGE "expected nexus.region=<size>@<address>:<gsi> nexus.doorbell=<address>, e.g. " \
		    "nexus.region=0x4000000@0xe0000000:10 nexus.doorbell=0xd0100000"

static char region_arg[64];
static char doorbell_arg[32];
module_param_string(region, region_arg, sizeof(region_arg), 0444);
MODULE_PARM_DESC(region, "<size>@<address>:<gsi> of the Nexus region (set by the VMM)");
module_param_string(doorbell, doorbell_arg, sizeof(doorbell_arg), 0444);
MODULE_PARM_DESC(doorbell, "guest-physical address of the Nexus doorbell (set by the VMM)");

static struct {
	phys_addr_t base;
	u64 size;
	u32 gsi;
	phys_addr_t doorbell_phys;
	void __iomem *doorbell;
	/* Interrupts since the last read; guarded by wait.lock (as eventfd guards its count). */
	u64 pending;
	wait_queue_head_t wait;
	/* The region's header page (for the restore record) and the last record applied; guarded by restore_lock. */
	u8 *header;
	u64 applied;
	struct mutex restore_lock;
} nx;

/* The restore record (docs/channel.md): at this offset of the region's header page, written by the host before a
 * restored VM runs. The host never reads the region back, so the fields the guest writes only tell user space. */
#define RESTORE_OFFSET 1024
#define RESTORE_MAGIC 0x5352584e /* "NXRS" */
#define RESTORE_VERSION 1
#define RESTORE_SEED_LEN 32

struct nexus_restore {
	__le32 magic;
	__le16 version;
	__le16 environment_len; /* read by user space only */
	__le64 sequence;        /* non-zero, new for every restore */
	__le64 wall_clock_ns;   /* the host's CLOCK_REALTIME when it wrote the record */
	u8 seed[RESTORE_SEED_LEN];
	__le64 applied;         /* written by this driver: the sequence it applied */
};
static_assert(sizeof(struct nexus_restore) == 64);

/* Applies a new restore record once. The record is copied out of the region before anything is checked or used: the
 * host writes it before the vCPUs run, but the region is shared memory and only the copy is trusted to stay put. */
static void nexus_apply_restore(void)
{
	struct nexus_restore *shared = (struct nexus_restore *)(nx.header + RESTORE_OFFSET);
	struct nexus_restore record;
	struct timespec64 wall;
	u64 sequence, ns;
	int ret;

	mutex_lock(&nx.restore_lock);
	memcpy(&record, shared, sizeof(record));
	sequence = le64_to_cpu(record.sequence);
	if (le32_to_cpu(record.magic) != RESTORE_MAGIC || !sequence || sequence == nx.applied)
		goto out;
	if (le16_to_cpu(record.version) != RESTORE_VERSION) {
		pr_warn_ratelimited("restore record version %u not understood: not applied\n", le16_to_cpu(record.version));
		goto out;
	}

	/* Mixed into the input pool and the CRNG reseeded from it now (not at the next reseed interval), so the
	 * per-CPU CRNGs every restored VM inherited from the snapshot are all replaced before the next random byte. */
	add_vmfork_randomness(record.seed, sizeof(record.seed));
	memzero_explicit(shared->seed, sizeof(shared->seed));
	memzero_explicit(record.seed, sizeof(record.seed));

	ns = le64_to_cpu(record.wall_clock_ns);
	wall = ns_to_timespec64((s64)min_t(u64, ns, S64_MAX));
	ret = ns ? do_settimeofday64(&wall) : -EINVAL;
	if (ret)
		pr_warn("restore %llu: wall clock %llu ns refused (%d): the clock is the snapshot's\n", sequence, ns, ret);

	nx.applied = sequence;
	WRITE_ONCE(shared->applied, cpu_to_le64(sequence));
	pr_info("restore %llu applied: seed mixed in, wall clock %s\n", sequence, ret ? "kept" : "set by the host");
out:
	mutex_unlock(&nx.restore_lock);
}

static int nexus_open(struct inode *inode, struct file *file)
{
	nexus_apply_restore();
	return 0;
}

static irqreturn_t nexus_interrupt(int irq, void *data)
{
	unsigned long flags;

	spin_lock_irqsave(&nx.wait.lock, flags);
	if (nx.pending != U64_MAX)
		nx.pending++;
	wake_up_locked_poll(&nx.wait, EPOLLIN | EPOLLRDNORM);
	spin_unlock_irqrestore(&nx.wait.lock, flags);
	return IRQ_HANDLED;
}

static ssize_t nexus_read(struct file *file, char __user *buf, size_t len, loff_t *ppos)
{
	u64 count;
	int ret;

	if (len < sizeof(count))
		return -EINVAL;
	spin_lock_irq(&nx.wait.lock);
	if (!nx.pending) {
		if (file->f_flags & O_NONBLOCK) {
			spin_unlock_irq(&nx.wait.lock);
			return -EAGAIN;
		}
		ret = wait_event_interruptible_locked_irq(nx.wait, nx.pending);
		if (ret) {
			spin_unlock_irq(&nx.wait.lock);
			return ret;
		}
	}
	count = nx.pending;
	nx.pending = 0;
	spin_unlock_irq(&nx.wait.lock);

	/* The interrupt after a restore wakes the reader that slept at the ready point: it must not see the channel
	 * before the CRNG and the clock are the instance's own. */
	nexus_apply_restore();

	if (put_user(count, (u64 __user *)buf)) {
		/* Give the count back so a bad buffer does not lose a wake-up. */
		spin_lock_irq(&nx.wait.lock);
		nx.pending = count;
		wake_up_locked_poll(&nx.wait, EPOLLIN | EPOLLRDNORM);
		spin_unlock_irq(&nx.wait.lock);
		return -EFAULT;
	}
	return sizeof(count);
}

static ssize_t nexus_write(struct file *file, const char __user *buf, size_t len, loff_t *ppos)
{
	if (len < sizeof(u64))
		return -EINVAL;
	/* A 4-byte MMIO write: KVM matches it to the host's ioeventfd (length 4, no data match) without a VM exit to
	 * user space. */
	writel(1, nx.doorbell);
	return sizeof(u64);
}

static __poll_t nexus_poll(struct file *file, poll_table *wait)
{
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &nx.wait, wait);
	if (READ_ONCE(nx.pending))
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static int nexus_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long pages = nx.size >> PAGE_SHIFT;
	unsigned long len = vma->vm_end - vma->vm_start;

	/* A private mapping would copy pages on write and the host would never see them; code never runs from it.
	 * VM_MAYSHARE, not VM_SHARED: a MAP_SHARED mapping of a descriptor opened read-only has only the former. */
	if (!(vma->vm_flags & VM_MAYSHARE) || (vma->vm_flags & VM_EXEC))
		return -EINVAL;
	if (vma->vm_pgoff > pages || (len >> PAGE_SHIFT) > pages - vma->vm_pgoff)
		return -EINVAL;
	vma->vm_flags &= ~VM_MAYEXEC;
	/* The region is host RAM: a cached mapping, like the host's own. */
	return remap_pfn_range(vma, vma->vm_start, PHYS_PFN(nx.base) + vma->vm_pgoff, len, vma->vm_page_prot);
}

static loff_t nexus_llseek(struct file *file, loff_t offset, int whence)
{
	return fixed_size_llseek(file, offset, whence, nx.size);
}

static const struct file_operations nexus_fops = {
	.owner = THIS_MODULE,
	.open = nexus_open,
	.read = nexus_read,
	.write = nexus_write,
	.poll = nexus_poll,
	.mmap = nexus_mmap,
	.llseek = nexus_llseek,
};

static struct miscdevice nexus_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "nexus-region",
	.fops = &nexus_fops,
	.mode = 0600,
};

static int __init reject(const char *param, const char *value, const char *why)
{
	pr_err("%s=%s rejected: %s; " NEXUS_USAGE "\n", param, value, why);
	return -EINVAL;
}

/* Addresses must lie inside the CPU's physical address width and outside the guest's RAM: a wrong parameter must
 * never hand kernel memory to user space through mmap. */
static const char *__init check_range(u64 start, u64 size)
{
	if (start + size < start || ((start + size - 1) >> boot_cpu_data.x86_phys_bits))
		return "beyond the physical address width";
	if (region_intersects(start, size, IORESOURCE_SYSTEM_RAM, IORES_DESC_NONE) != REGION_DISJOINT)
		return "overlaps the guest's RAM";
	return NULL;
}

static int __init nexus_parse(void)
{
	char buf[sizeof(region_arg)];
	char *addr_s, *gsi_s;
	const char *why;
	u64 size, addr, bell;
	u32 gsi;

	strscpy(buf, region_arg, sizeof(buf));
	addr_s = strchr(buf, '@');
	gsi_s = addr_s ? strchr(addr_s, ':') : NULL;
	if (!addr_s || !gsi_s)
		return reject("nexus.region", region_arg, "not of the form <size>@<address>:<gsi>");
	*addr_s++ = '\0';
	*gsi_s++ = '\0';
	if (kstrtou64(buf, 0, &size) || kstrtou64(addr_s, 0, &addr) || kstrtou32(gsi_s, 0, &gsi))
		return reject("nexus.region", region_arg, "size, address and gsi must be numbers");
	if (!size || !PAGE_ALIGNED(size) || !PAGE_ALIGNED(addr))
		return reject("nexus.region", region_arg, "size and address must be non-zero multiples of the page size");
	why = check_range(addr, size);
	if (why)
		return reject("nexus.region", region_arg, why);
	if (mp_find_ioapic(gsi) < 0)
		return reject("nexus.region", region_arg, "the gsi is not an IOAPIC input");

	if (kstrtou64(doorbell_arg, 0, &bell))
		return reject("nexus.doorbell", doorbell_arg, "not a number");
	if (!IS_ALIGNED(bell, 4))
		return reject("nexus.doorbell", doorbell_arg, "not 4-byte aligned");
	why = check_range(bell, 4);
	if (why)
		return reject("nexus.doorbell", doorbell_arg, why);
	if (bell + 4 > addr && bell < addr + size)
		return reject("nexus.doorbell", doorbell_arg, "inside the region");

	nx.base = addr;
	nx.size = size;
	nx.gsi = gsi;
	nx.doorbell_phys = bell;
	return 0;
}

static int __init nexus_init(void)
{
	int ret;

	if (!region_arg[0] && !doorbell_arg[0]) {
		pr_info("no nexus.region on the command line: /dev/nexus-region not created\n");
		return 0;
	}
	if (!region_arg[0] || !doorbell_arg[0])
		return reject(region_arg[0] ? "nexus.doorbell" : "nexus.region", "", "missing");
	ret = nexus_parse();
	if (ret)
		return ret;

	init_waitqueue_head(&nx.wait);
	mutex_init(&nx.restore_lock);
	if (!request_mem_region(nx.base, nx.size, "nexus-region")) {
		pr_err("nexus.region=%s: the range is already claimed by another device\n", region_arg);
		return -EBUSY;
	}
	if (!request_mem_region(nx.doorbell_phys, 4, "nexus-doorbell")) {
		pr_err("nexus.doorbell=%s: the address is already claimed by another device\n", doorbell_arg);
		ret = -EBUSY;
		goto release_region;
	}
	nx.doorbell = ioremap(nx.doorbell_phys, 4);
	if (!nx.doorbell) {
		ret = -ENOMEM;
		goto release_doorbell;
	}
	/* Host RAM, cached like the host's own mapping and user space's (nexus_mmap). */
	nx.header = memremap(nx.base, PAGE_SIZE, MEMREMAP_WB);
	if (!nx.header) {
		ret = -ENOMEM;
		goto unmap_doorbell;
	}
	/* The first IOAPIC's inputs map one to one onto Linux interrupt numbers (as virtio_mmio.device=...:<gsi> uses
	 * them); the MP table declares them ISA inputs: edge-triggered, as the host's irqfd raises them. */
	ret = request_irq(nx.gsi, nexus_interrupt, 0, "nexus-region", &nx);
	if (ret) {
		pr_err("nexus.region=%s: interrupt %u is not available (%d)\n", region_arg, nx.gsi, ret);
		goto unmap_header;
	}
	ret = misc_register(&nexus_misc);
	if (ret) {
		pr_err("cannot register /dev/nexus-region (%d)\n", ret);
		goto free_irq;
	}
	pr_info("region %llu KiB at %pa, doorbell at %pa, interrupt %u: /dev/nexus-region\n",
		nx.size >> 10, &nx.base, &nx.doorbell_phys, nx.gsi);
	return 0;

free_irq:
	free_irq(nx.gsi, &nx);
unmap_header:
	memunmap(nx.header);
unmap_doorbell:
	iounmap(nx.doorbell);
release_doorbell:
	release_mem_region(nx.doorbell_phys, 4);
release_region:
	release_mem_region(nx.base, nx.size);
	return ret;
}
device_initcall(nexus_init);

MODULE_DESCRIPTION("Nexus micro-VM region: /dev/nexus-region");
MODULE_LICENSE("Dual MIT/GPL");
