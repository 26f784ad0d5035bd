/* cgroup v2 device control: load a BPF_PROG_TYPE_CGROUP_DEVICE program and attach it to a cgroup. */
#include "napi_util.h"

void berth_init_bpf(napi_env env, napi_value exports) {
  (void)env;
  (void)exports;
}
