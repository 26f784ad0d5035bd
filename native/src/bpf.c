/* cgroup v2 device control: load a BPF_PROG_TYPE_CGROUP_DEVICE program and attach it to a cgroup.
 * The program itself is generated in TypeScript (lib/cgroups/devices-bpf.ts); C only makes the calls. */
#include "napi_util.h"
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARGS(n)                                                                \
  size_t argc = n;                                                             \
  napi_value argv[n];                                                          \
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

static long sys_bpf(int cmd, union bpf_attr *attr) {
  return syscall(__NR_bpf, cmd, attr, sizeof *attr);
}

/* bpfLoadDeviceProgram(insns: Buffer) -> prog fd. On a verifier error the message carries its log. */
static napi_value js_load(napi_env env, napi_callback_info info) {
  ARGS(1);
  void *data;
  size_t len;
  bool is_buf = false;
  napi_is_buffer(env, argv[0], &is_buf);
  if (!is_buf || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok || len == 0 || len % 8 != 0) {
    napi_throw_type_error(env, NULL, "bpfLoadDeviceProgram(insns: Buffer of 8-byte instructions)");
    return NULL;
  }
  static const char license[] = "Apache";
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)data;
  attr.insn_cnt = (uint32_t)(len / 8);
  attr.license = (uint64_t)(uintptr_t)license;
  int fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return make_int(env, fd);
  int err = errno;
  /* load again with the verifier log, only to explain the failure */
  char log[2048] = "";
  attr.log_level = 1;
  attr.log_buf = (uint64_t)(uintptr_t)log;
  attr.log_size = sizeof log;
  int fd2 = (int)sys_bpf(BPF_PROG_LOAD, &attr);
  if (fd2 >= 0) close(fd2);
  log[sizeof log - 1] = '\0';
  return throw_errno(env, err, "bpf(BPF_PROG_LOAD)", log[0] ? log : NULL);
}

/* BPF_PROG_ATTACH or BPF_PROG_DETACH of a device program on a cgroup: (cgroupFd, progFd) */
static napi_value attach_detach(napi_env env, napi_callback_info info, int cmd, uint32_t flags, const char *usage, const char *what) {
  ARGS(2);
  int32_t cg, prog;
  if (!arg_int32(env, argv[0], &cg) || !arg_int32(env, argv[1], &prog)) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cg;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = flags;
  if (sys_bpf(cmd, &attr) != 0) return throw_errno(env, errno, what, NULL);
  return make_undefined(env);
}

/* bpfAttachDeviceProgram(cgroupFd, progFd): BPF_F_ALLOW_MULTI so an update can add before it removes. */
static napi_value js_attach(napi_env env, napi_callback_info info) {
  return attach_detach(env, info, BPF_PROG_ATTACH, BPF_F_ALLOW_MULTI, "bpfAttachDeviceProgram(cgroupFd, progFd)", "bpf(BPF_PROG_ATTACH)");
}

/* bpfDetachDeviceProgram(cgroupFd, progFd) */
static napi_value js_detach(napi_env env, napi_callback_info info) {
  return attach_detach(env, info, BPF_PROG_DETACH, 0, "bpfDetachDeviceProgram(cgroupFd, progFd)", "bpf(BPF_PROG_DETACH)");
}

/* bpfQueryDevicePrograms(cgroupFd) -> ids of the device programs attached directly to this cgroup */
static napi_value js_query(napi_env env, napi_callback_info info) {
  ARGS(1);
  int32_t cg;
  if (!arg_int32(env, argv[0], &cg)) {
    napi_throw_type_error(env, NULL, "bpfQueryDevicePrograms(cgroupFd)");
    return NULL;
  }
  uint32_t ids[64];
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.query.target_fd = (uint32_t)cg;
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
  attr.query.prog_cnt = 64;
  if (sys_bpf(BPF_PROG_QUERY, &attr) != 0) return throw_errno(env, errno, "bpf(BPF_PROG_QUERY)", NULL);
  napi_value arr;
  NAPI_CALL(env, napi_create_array_with_length(env, attr.query.prog_cnt, &arr));
  for (uint32_t i = 0; i < attr.query.prog_cnt && i < 64; i++) {
    NAPI_CALL(env, napi_set_element(env, arr, i, make_int(env, ids[i])));
  }
  return arr;
}

/* bpfProgFdById(id) -> fd of a loaded program (needed to detach it) */
static napi_value js_fd_by_id(napi_env env, napi_callback_info info) {
  ARGS(1);
  uint32_t id;
  if (!arg_uint32(env, argv[0], &id)) {
    napi_throw_type_error(env, NULL, "bpfProgFdById(id)");
    return NULL;
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_id = id;
  int fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  if (fd < 0) return throw_errno(env, errno, "bpf(BPF_PROG_GET_FD_BY_ID)", NULL);
  return make_int(env, fd);
}

void berth_init_bpf(napi_env env, napi_value exports) {
  export_fn(env, exports, "bpfLoadDeviceProgram", js_load);
  export_fn(env, exports, "bpfAttachDeviceProgram", js_attach);
  export_fn(env, exports, "bpfDetachDeviceProgram", js_detach);
  export_fn(env, exports, "bpfQueryDevicePrograms", js_query);
  export_fn(env, exports, "bpfProgFdById", js_fd_by_id);
}
