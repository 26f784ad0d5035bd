// The shapes the layer store keeps on disk and hands to the runtime.

/** The part of an image config (its `config` object) the runtime uses to build a process. */
export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
}

/** images/<name>.json: one imported image. Layers are shared between images through their diff_id. */
export interface ImageRecord {
  name: string;
  /** digest of the image config blob ("sha256:..."), the image's identity */
  id: string;
  /** digest of the manifest it came from; for docker-archive the digest of the manifest.json entry */
  manifestDigest: string;
  platform: { os: string; architecture: string; variant?: string };
  config: ImageConfig;
  /** diff_ids, bottom layer first (the order of rootfs.diff_ids) */
  layers: string[];
  /** sum of the layer blob sizes as stored in the source */
  size: number;
  created?: string;
  importedAt: string;
}

/** containers/<id>/rootfs.json: which layers a mounted container holds, so gc keeps them. */
export interface ContainerRootfsRecord {
  id: string;
  image: string;
  imageId: string;
  layers: string[];
  rootfs: string;
  /**
   * the runtime's state directory of the container (<--root>/<id>): while it exists the root is in use;
   * gc removes a root whose owner is gone (a create or delete killed half-way)
   */
  owner?: string;
}
