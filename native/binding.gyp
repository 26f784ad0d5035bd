{
  "targets": [
    {
      "target_name": "berth_native",
      "sources": [
        "src/addon.c",
        "src/napi_util.c",
        "src/syscalls.c",
        "src/waiter.c",
        "src/bootstrap.c",
        "src/bootstrap_rootfs.c",
        "src/bootstrap_process.c",
        "src/spawn.c",
        "src/bpf.c",
        "src/fsbatch.c",
        "src/rtnl.c"
      ],
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
