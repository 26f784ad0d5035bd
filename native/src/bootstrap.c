#include "napi_util.h"
