// CNI data shapes. Inside berth, results always use the 1.1.0 shape; lib/cni/version.ts converts at the edges.

export interface Interface {
  name: string;
  mac?: string;
  mtu?: number;
  /** the netns path for interfaces inside the container; absent for host interfaces */
  sandbox?: string;
  socketPath?: string;
  pciID?: string;
}

export interface IPConfig {
  /** CIDR notation: "10.1.2.3/24" */
  address: string;
  gateway?: string;
  /** index into Result.interfaces */
  interface?: number;
}

export interface Route {
  dst: string;
  gw?: string;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface DNS {
  nameservers?: string[];
  domain?: string;
  search?: string[];
  options?: string[];
}

export interface Result {
  cniVersion: string;
  interfaces?: Interface[];
  ips?: IPConfig[];
  routes?: Route[];
  dns?: DNS;
}

export interface IPAMConfig {
  type: string;
  [key: string]: unknown;
}

export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  ipam?: IPAMConfig;
  dns?: DNS;
  prevResult?: Result;
  runtimeConfig?: Record<string, unknown>;
  args?: Record<string, unknown>;
  [key: string]: unknown;
}

/** One entry of `cni.dev/valid-attachments` (GC). */
export interface Attachment {
  containerID: string;
  ifname: string;
}
