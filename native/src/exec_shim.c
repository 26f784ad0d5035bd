/*
 * The exec shim: the last program the bootstrap executes before the container's own (CVE-2019-5736).
 * The bootstrap is a fork of the host's node binary; if the container's program were /proc/self/exe (or
 * a link to it, or a #! naming it), a plain execve would run node again inside the container, where the
 * container could open /proc/<pid>/exe and write the host's node once it stops running. Instead the
 * bootstrap runs this shim from a sealed memfd (native/src/exec_shim_fd.c) and the shim execs the real
 * program, so /proc/self/exe in the container can only ever name the sealed shim.
 *
 * Invoked as [path, argv0, argv1, ...]: execs path with [argv0, argv1, ...]. Static, no C library: its only
 * system call is execve, plus write and exit_group when execve fails (runc's message, runc's status 1).
 * It runs after the seccomp filter, which the profile must let through anyway for the program's execve.
 */
#include <asm/unistd.h>
#include <errno.h>

static long sys3(long nr, long a, long b, long c) {
  long ret;
#if defined(__x86_64__)
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = nr;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  ret = x0;
#else
#error "exec shim: unsupported architecture"
#endif
  return ret;
}

/* Go's wording, as runc prints it: `exec /x: exec format error`. */
static const char *describe(long err) {
  switch (err) {
    case ENOENT: return "no such file or directory";
    case EACCES: return "permission denied";
    case ENOEXEC: return "exec format error";
    case E2BIG: return "argument list too long";
    case ETXTBSY: return "text file busy";
    case ELOOP: return "too many levels of symbolic links";
    case ENOMEM: return "cannot allocate memory";
    case EPERM: return "operation not permitted";
    case EISDIR: return "is a directory";
    case ENOTDIR: return "not a directory";
    case ENAMETOOLONG: return "file name too long";
    case ELIBBAD: return "accessing a corrupted shared library";
    case EINVAL: return "invalid argument";
    case EIO: return "input/output error";
    case EFAULT: return "bad address";
    default: return 0;
  }
}

static unsigned put(char *buf, unsigned at, unsigned size, const char *s) {
  while (s && *s && at < size) buf[at++] = *s++;
  return at;
}

__attribute__((used, noreturn)) static void shim_main(long *sp) {
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  const char *path = argc > 0 ? argv[0] : 0;
  long err = path ? -sys3(__NR_execve, (long)path, (long)(argv + 1), (long)envp) : EINVAL;
  char msg[512];
  unsigned n = put(msg, 0, sizeof msg - 1, "exec ");
  n = put(msg, n, sizeof msg - 1, path ? path : "(none)");
  n = put(msg, n, sizeof msg - 1, ": ");
  const char *text = describe(err);
  char num[24];
  if (!text) {
    unsigned i = sizeof num - 1;
    num[i] = 0;
    do num[--i] = (char)('0' + err % 10); while ((err /= 10) > 0 && i > 6);
    num[--i] = ' ', num[--i] = 'o', num[--i] = 'n', num[--i] = 'r', num[--i] = 'r', num[--i] = 'e';
    text = num + i;
  }
  n = put(msg, n, sizeof msg - 1, text);
  msg[n++] = '\n';
  sys3(__NR_write, 2, (long)msg, n);
  for (;;) sys3(__NR_exit_group, 1, 0, 0);
}

/* The kernel starts us with argc at the stack pointer; hand that to C on an aligned stack. */
#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call shim_main\n  hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n  mov x0, sp\n  bl shim_main\n");
#endif
