/* Prints every KVM ioctl number, struct size and field offset Nexus.Interop uses, as
   "name value" lines, so the test can compare them with the C# definitions. */
#include <linux/kvm.h>
#include <stddef.h>
#include <stdio.h>

#define N(x) printf("%s %llu\n", #x, (unsigned long long)(x))
#define S(x) printf("sizeof_%s %zu\n", #x, sizeof(struct x))
#define O(s, f) printf("offsetof_%s_%s %zu\n", #s, #f, offsetof(struct s, f))

int main(void)
{
    N(KVM_GET_API_VERSION); N(KVM_CREATE_VM); N(KVM_GET_MSR_INDEX_LIST); N(KVM_CHECK_EXTENSION);
    N(KVM_GET_VCPU_MMAP_SIZE); N(KVM_GET_SUPPORTED_CPUID);
    N(KVM_CREATE_VCPU); N(KVM_SET_USER_MEMORY_REGION); N(KVM_SET_TSS_ADDR); N(KVM_SET_IDENTITY_MAP_ADDR);
    N(KVM_CREATE_IRQCHIP); N(KVM_IRQ_LINE); N(KVM_GET_IRQCHIP); N(KVM_SET_IRQCHIP); N(KVM_IRQFD);
    N(KVM_CREATE_PIT2); N(KVM_IOEVENTFD); N(KVM_SET_CLOCK); N(KVM_GET_CLOCK); N(KVM_GET_PIT2); N(KVM_SET_PIT2);
    N(KVM_RUN); N(KVM_GET_REGS); N(KVM_SET_REGS); N(KVM_GET_SREGS); N(KVM_SET_SREGS);
    N(KVM_GET_MSRS); N(KVM_SET_MSRS); N(KVM_SET_SIGNAL_MASK); N(KVM_GET_FPU); N(KVM_SET_FPU);
    N(KVM_GET_LAPIC); N(KVM_SET_LAPIC); N(KVM_SET_CPUID2); N(KVM_GET_CPUID2);
    N(KVM_GET_MP_STATE); N(KVM_SET_MP_STATE); N(KVM_GET_VCPU_EVENTS); N(KVM_SET_VCPU_EVENTS);
    N(KVM_GET_DEBUGREGS); N(KVM_SET_DEBUGREGS); N(KVM_GET_XSAVE); N(KVM_SET_XSAVE);
    N(KVM_GET_XCRS); N(KVM_SET_XCRS); N(KVM_KVMCLOCK_CTRL); N(KVM_GET_TSC_KHZ);

    N(KVM_EXIT_IO); N(KVM_EXIT_HLT); N(KVM_EXIT_MMIO); N(KVM_EXIT_SHUTDOWN); N(KVM_EXIT_FAIL_ENTRY);
    N(KVM_EXIT_INTERNAL_ERROR); N(KVM_EXIT_SYSTEM_EVENT); N(KVM_EXIT_IO_OUT);
    N(KVM_CAP_IRQCHIP); N(KVM_CAP_USER_MEMORY); N(KVM_CAP_SET_TSS_ADDR); N(KVM_CAP_PIT2);
    N(KVM_CAP_IOEVENTFD); N(KVM_CAP_IRQFD); N(KVM_CAP_XSAVE); N(KVM_CAP_XCRS); N(KVM_CAP_VCPU_EVENTS);
    N(KVM_CAP_DEBUGREGS); N(KVM_CAP_MP_STATE); N(KVM_CAP_READONLY_MEM); N(KVM_CAP_EXT_CPUID);
    N(KVM_PIT_SPEAKER_DUMMY); N(KVM_MEM_READONLY); N(KVM_IOEVENTFD_FLAG_DATAMATCH);
    N(KVM_CLOCK_TSC_STABLE); N(KVM_MP_STATE_RUNNABLE);

    S(kvm_regs); S(kvm_sregs); S(kvm_segment); S(kvm_dtable); S(kvm_fpu); S(kvm_lapic_state);
    S(kvm_xsave); S(kvm_xcrs); S(kvm_debugregs); S(kvm_vcpu_events); S(kvm_mp_state);
    S(kvm_clock_data); S(kvm_pit_state2); S(kvm_irqchip); S(kvm_pit_config);
    S(kvm_userspace_memory_region); S(kvm_irqfd); S(kvm_ioeventfd); S(kvm_cpuid_entry2);
    S(kvm_cpuid2); S(kvm_msr_entry); S(kvm_msrs); S(kvm_msr_list); S(kvm_signal_mask); S(kvm_run);

    O(kvm_regs, rip); O(kvm_regs, rflags); O(kvm_sregs, gdt); O(kvm_sregs, cr0); O(kvm_sregs, efer);
    O(kvm_sregs, apic_base); O(kvm_segment, selector); O(kvm_segment, unusable);
    O(kvm_fpu, fcw); O(kvm_fpu, xmm); O(kvm_fpu, mxcsr); O(kvm_clock_data, flags);
    O(kvm_ioeventfd, len); O(kvm_ioeventfd, fd); O(kvm_ioeventfd, flags);
    O(kvm_userspace_memory_region, userspace_addr); O(kvm_irqfd, flags);
    O(kvm_run, immediate_exit); O(kvm_run, exit_reason); O(kvm_run, io); O(kvm_run, mmio);
    O(kvm_run, internal); O(kvm_run, system_event); O(kvm_run, fail_entry);
    printf("offsetof_kvm_run_io_port %zu\n", offsetof(struct kvm_run, io.port));
    printf("offsetof_kvm_run_io_data_offset %zu\n", offsetof(struct kvm_run, io.data_offset));
    printf("offsetof_kvm_run_mmio_len %zu\n", offsetof(struct kvm_run, mmio.len));
    printf("offsetof_kvm_run_mmio_is_write %zu\n", offsetof(struct kvm_run, mmio.is_write));
    printf("offsetof_kvm_run_internal_data %zu\n", offsetof(struct kvm_run, internal.data));
    return 0;
}
