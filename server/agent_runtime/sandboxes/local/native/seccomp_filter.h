/* The sandbox's seccomp filter, installed by exec-guard (every process of a sandbox starts under it, the
one holding its namespaces too) and by sandbox-enter (each command entered into a sandbox).

It refuses the system calls that reach into other processes (ptrace, process_vm_*, pidfd_getfd), that open
a large kernel surface to an unprivileged user (new user namespaces, io_uring, bpf, perf events,
userfaultfd, keyrings), and AF_VSOCK sockets, which no namespace confines. Everything else is allowed.
clone3 answers ENOSYS so that libc falls back to clone, whose flags the filter can read. The caller has set
no_new_privs. */

#ifndef SECCOMP_FILTER_H
#define SECCOMP_FILTER_H

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define THIS_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define THIS_ARCH AUDIT_ARCH_AARCH64
#else
#error "the seccomp filter knows the system calls of x86_64 and aarch64 only"
#endif

#define SYSCALL_NR offsetof(struct seccomp_data, nr)
/* The low 32 bits of the first argument, on these little-endian machines. */
#define FIRST_ARG offsetof(struct seccomp_data, args[0])
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define FAIL(errno_value) BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (errno_value))
/* nr fails with EPERM; otherwise the next rule is tried. */
#define REFUSE(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), FAIL(EPERM)
/* nr fails with EPERM when its first argument has one of `bits`; the rules after it are skipped. */
#define REFUSE_FLAGS(nr, bits)                                                                          \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4), BPF_STMT(BPF_LD | BPF_W | BPF_ABS, FIRST_ARG),    \
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, (bits), 0, 1), FAIL(EPERM), ALLOW

static struct sock_filter seccomp_rules[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_ARCH, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SYSCALL_NR),
#if defined(__x86_64__)
    /* The x32 ABI numbers the same calls anew: none of them is needed. */
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1),
    FAIL(EPERM),
#endif
    REFUSE(__NR_ptrace),
    REFUSE(__NR_process_vm_readv),
    REFUSE(__NR_process_vm_writev),
    REFUSE(__NR_pidfd_getfd),
    REFUSE(__NR_setns),
    REFUSE(__NR_io_uring_setup),
    REFUSE(__NR_io_uring_enter),
    REFUSE(__NR_io_uring_register),
    REFUSE(__NR_bpf),
    REFUSE(__NR_perf_event_open),
    REFUSE(__NR_userfaultfd),
    REFUSE(__NR_keyctl),
    REFUSE(__NR_add_key),
    REFUSE(__NR_request_key),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
    FAIL(ENOSYS),
    /* The last rules load an argument, so each ends the program. */
    REFUSE_FLAGS(__NR_unshare, CLONE_NEWUSER),
    REFUSE_FLAGS(__NR_clone, CLONE_NEWUSER),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, FIRST_ARG),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_VSOCK, 0, 1),
    FAIL(EAFNOSUPPORT),
    ALLOW,
};

/* 0, or -1 with errno set. */
static int install_seccomp_filter(void) {
    struct sock_fprog program = {.len = sizeof seccomp_rules / sizeof seccomp_rules[0], .filter = seccomp_rules};
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program);
}

#endif
