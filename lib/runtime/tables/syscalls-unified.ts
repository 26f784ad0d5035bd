// Since Linux 5.1 (pidfd_send_signal, 424) a new system call gets one number on every architecture
// (scripts/syscall.tbl); the arch tables spread these in. Extend by hand as calls are added (kernel version
// in the comment). map_shadow_stack (453) is not here: 32-bit x86 and x32 do not have it.
export const SYSCALLS_UNIFIED: Readonly<Record<string, number>> = {
  pidfd_send_signal: 424,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  pidfd_open: 434,
  clone3: 435,
  close_range: 436,
  openat2: 437,
  pidfd_getfd: 438,
  faccessat2: 439,
  process_madvise: 440,
  epoll_pwait2: 441,
  mount_setattr: 442,
  quotactl_fd: 443,
  landlock_create_ruleset: 444,
  landlock_add_rule: 445,
  landlock_restrict_self: 446,
  memfd_secret: 447,
  process_mrelease: 448,
  futex_waitv: 449,
  set_mempolicy_home_node: 450,
  cachestat: 451, // Linux 6.5
  fchmodat2: 452, // Linux 6.6
  futex_wake: 454, // Linux 6.7
  futex_wait: 455, // Linux 6.7
  futex_requeue: 456, // Linux 6.7
  statmount: 457, // Linux 6.8
  listmount: 458, // Linux 6.8
  lsm_get_self_attr: 459, // Linux 6.8
  lsm_set_self_attr: 460, // Linux 6.8
  lsm_list_modules: 461, // Linux 6.8
  mseal: 462, // Linux 6.10
  setxattrat: 463, // Linux 6.13
  getxattrat: 464, // Linux 6.13
  listxattrat: 465, // Linux 6.13
  removexattrat: 466, // Linux 6.13
  open_tree_attr: 467, // Linux 6.15
  file_getattr: 468, // Linux 6.17
  file_setattr: 469, // Linux 6.17
  listns: 470, // Linux 6.19
  rseq_slice_yield: 471, // Linux 7.1
};
