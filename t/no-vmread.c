/*
 * no-vmread: runs a command in which process_vm_readv() fails with EPERM,
 * as it does in containers whose seccomp profile predates its allowing
 * (Docker's before 2021, containerd's before 1.7).  t/slowlog.bats runs
 * fpmd under it to show that the slowlog then reads through its pipe.
 *
 *	no-vmread COMMAND [ARG...]
 *
 * The filter is inherited by every child and kept across exec; it needs
 * no privilege (PR_SET_NO_NEW_PRIVS).  Exit status 127 if it cannot be
 * installed or COMMAND cannot be run.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NV_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NV_ARCH	AUDIT_ARCH_AARCH64
#else
#error "no-vmread: add this architecture's AUDIT_ARCH_ value"
#endif

int
main(int argc, char *argv[])
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NV_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (argc < 2) {
		fprintf(stderr, "usage: no-vmread COMMAND [ARG...]\n");
		return 127;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == -1) {
		fprintf(stderr, "no-vmread: seccomp: %s\n", strerror(errno));
		return 127;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "no-vmread: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
