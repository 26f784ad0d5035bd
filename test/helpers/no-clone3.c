/*
 * Runs argv[1..] with clone3 refused (ENOSYS), as the seccomp profiles of older container engines refuse it,
 * so that a test sees berth's fallback to clone. `--probe`: tries clone3 itself under the filter and prints
 * ENOSYS when the filter answered (the kernel alone says EINVAL to these arguments).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NR_CLONE3 435 /* the same number on every architecture's table */
#if defined(__x86_64__)
#define OUR_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define OUR_ARCH AUDIT_ARCH_AARCH64
#else
#error "no audit arch for this architecture"
#endif

int main(int argc, char **argv) {
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, OUR_ARCH, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NR_CLONE3, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0], .filter = filter};
  if (argc < 2) {
    fprintf(stderr, "usage: no-clone3 --probe | PROGRAM [ARG...]\n");
    return 2;
  }
  /* root: CAP_SYS_ADMIN lets us install it without no_new_privs, which would change what berth may do */
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
    perror("no-clone3: seccomp");
    return 125;
  }
  if (strcmp(argv[1], "--probe") == 0) {
    long r = syscall(NR_CLONE3, NULL, 0);
    puts(r < 0 && errno == ENOSYS ? "ENOSYS" : "not refused");
    return 0;
  }
  execv(argv[1], argv + 1);
  perror("no-clone3: execv");
  return 127;
}
