// The package's typed API, one namespace per area (each is also a subpath export: berth/runtime,
// berth/cni, berth/cgroups, berth/images, which load only that area).
export * as runtime from './runtime/container';
export * as cni from './cni/libcni';
export * as cgroups from './cgroups';
export * as images from './overlayfs';
