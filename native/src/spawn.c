#include "napi_util.h"
void berth_init_spawn(napi_env env, napi_value exports) { (void)env; (void)exports; }
