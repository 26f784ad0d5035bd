{
  "targets": [
    {
      "target_name": "berth_bootstrap",
      "type": "static_library",
      "sources": [
        "src/sync.c",
        "src/fdutil.c",
        "src/plan_decode.c",
        "src/bootstrap.c",
        "src/bootstrap_rootfs.c",
        "src/bootstrap_process.c",
        "src/exec_shim_fd.c"
      ],
      "actions": [
        {
          "action_name": "embed_exec_shim",
          "inputs": ["src/exec_shim.c", "tools/embed-exec-shim.js"],
          "outputs": ["<(INTERMEDIATE_DIR)/exec_shim_bytes.h"],
          "action": ["node", "tools/embed-exec-shim.js", "src/exec_shim.c", "<(INTERMEDIATE_DIR)/exec_shim_bytes.h"]
        }
      ],
      "include_dirs": ["<(INTERMEDIATE_DIR)"],
      "direct_dependent_settings": {"include_dirs": ["src"]},
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2", "-fPIC"],
      "defines": ["_GNU_SOURCE"]
    },
    {
      "target_name": "berth_native",
      "sources": [
        "src/addon.c",
        "src/napi_util.c",
        "src/syscalls.c",
        "src/waiter.c",
        "src/spawn.c",
        "src/bpf.c",
        "src/fsbatch.c",
        "src/rtnl.c",
        "src/nlwrite.c",
        "src/unixsock.c",
        "src/netns.c",
        "src/fdwatch.c",
        "src/nlsocket.c"
      ],
      "dependencies": ["berth_bootstrap"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-O2"],
      "defines": ["_GNU_SOURCE", "NAPI_VERSION=8"]
    },
    {
      "target_name": "berth-pause",
      "type": "executable",
      "sources": ["src/pause.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "ldflags": ["-static", "-s"]
    }
  ]
}
