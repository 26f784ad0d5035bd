/* berth's one native addon: the container bootstrap and the syscalls Node lacks. */
#include "napi_util.h"

static napi_value init(napi_env env, napi_value exports) {
  berth_init_syscalls(env, exports);
  berth_init_waiter(env, exports);
  berth_init_spawn(env, exports);
  berth_init_bpf(env, exports);
  berth_init_fsbatch(env, exports);
  berth_init_rtnl(env, exports);
  berth_init_nlwrite(env, exports);
  berth_init_exec_shim(env, exports);
  berth_init_unixsock(env, exports);
  berth_init_fdwatch(env, exports);
  berth_init_nlsocket(env, exports);
  berth_init_netns(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
