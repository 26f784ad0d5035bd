// A small CRI client: the calls a kubelet makes, over gRPC on containerd's unix socket, with the messages
// of cri-v1.proto (a hand-written subset of the CRI v1 API). Fields are camelCase (proto-loader's
// default); int64s come back as numbers, enums as their names.
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

// compiled to dist/test/helpers: the .proto stays in the source tree
const PROTO = path.resolve(__dirname, '..', '..', '..', 'test', 'helpers', 'cri-v1.proto');

/** A failed call: the RPC's name, the gRPC status and containerd's message. */
export class CriError extends Error {
  constructor(readonly method: string, readonly code: number, readonly details: string) {
    super(`${method}: ${grpc.status[code] ?? code}: ${details}`);
  }
}

type Msg = Record<string, unknown>;
type Unary = (req: Msg, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res: Msg) => void) => void;

export interface PortMapping { protocol?: 'TCP' | 'UDP' | 'SCTP'; containerPort: number; hostPort: number; hostIp?: string }

export interface PodSandboxConfig {
  metadata: { name: string; uid: string; namespace: string; attempt?: number };
  hostname?: string;
  logDirectory?: string;
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: {
    cgroupParent?: string;
    securityContext?: {
      namespaceOptions?: { network?: string; pid?: string; ipc?: string };
      seccomp?: { profileType: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhostRef?: string };
    };
  };
}

export interface ContainerConfig {
  metadata: { name: string; attempt?: number };
  image: { image: string };
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: { key: string; value: string }[];
  logPath?: string;
  linux?: {
    resources?: { memoryLimitInBytes?: number; cpuShares?: number };
    securityContext?: {
      runAsUser?: { value: number };
      seccomp?: { profileType: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhostRef?: string };
      namespaceOptions?: { network?: string; pid?: string; ipc?: string };
    };
  };
}

export interface SandboxStatus { id: string; state: string; network: { ip: string } | null; runtimeHandler: string }
export interface ContainerStatus { id: string; state: string; exitCode: number; reason: string; message: string; startedAt: number; finishedAt: number }
export interface ExecResult { stdout: string; stderr: string; exitCode: number }
type U64 = { value: number } | null;
export interface ContainerStats {
  attributes: { id: string } | null;
  cpu: { timestamp: number; usageCoreNanoSeconds: U64 } | null;
  memory: { timestamp: number; workingSetBytes: U64; usageBytes: U64; rssBytes: U64; availableBytes: U64 } | null;
  writableLayer: { timestamp: number; usedBytes: U64; inodesUsed: U64 } | null;
}

export interface CriClient {
  version(): Promise<{ runtimeName: string; runtimeVersion: string; runtimeApiVersion: string }>;
  status(): Promise<{ type: string; status: boolean; reason: string; message: string }[]>;
  imageStatus(image: string): Promise<{ id: string; repoTags: string[] } | null>;
  runPodSandbox(config: PodSandboxConfig, runtimeHandler: string): Promise<string>;
  podSandboxStatus(id: string): Promise<SandboxStatus>;
  /** the verbose status's "info" JSON (containerd: pid, runtimeSpec, ...) */
  podSandboxInfo(id: string): Promise<Record<string, unknown>>;
  stopPodSandbox(id: string): Promise<void>;
  removePodSandbox(id: string): Promise<void>;
  createContainer(sandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>;
  startContainer(id: string): Promise<void>;
  containerStatus(id: string): Promise<ContainerStatus>;
  containerInfo(id: string): Promise<Record<string, unknown>>;
  execSync(id: string, cmd: string[], timeoutSeconds?: number): Promise<ExecResult>;
  containerStats(id: string): Promise<ContainerStats>;
  stopContainer(id: string, timeoutSeconds?: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  close(): void;
}

let loaded: grpc.GrpcObject | undefined;
function api(): grpc.GrpcObject {
  loaded ??= grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { longs: Number, enums: String, defaults: true }));
  return (loaded.runtime as grpc.GrpcObject).v1 as grpc.GrpcObject;
}

const infoOf = (res: Msg): Record<string, unknown> => JSON.parse((res.info as Record<string, string>).info ?? '{}') as Record<string, unknown>;

/** A client of the CRI at `socket` (a unix socket path); every call fails after `timeoutMs`. */
export function criClient(socket: string, timeoutMs = 60_000): CriClient {
  const v1 = api();
  const ctor = (name: string) => v1[name] as grpc.ServiceClientConstructor;
  const runtime = new (ctor('RuntimeService'))(`unix://${socket}`, grpc.credentials.createInsecure());
  const images = new (ctor('ImageService'))(`unix://${socket}`, grpc.credentials.createInsecure());
  const call = (client: grpc.Client, method: string, req: Msg): Promise<Msg> => new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, Unary>)[method].bind(client);
    fn(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(new CriError(method, err.code, err.details));
      else resolve(res);
    });
  });
  const rt = (method: string, req: Msg) => call(runtime, method, req);
  return {
    async version() {
      return await rt('Version', { version: 'v1' }) as unknown as Awaited<ReturnType<CriClient['version']>>;
    },
    async status() {
      const r = await rt('Status', {});
      return ((r.status as Msg | null)?.conditions ?? []) as Awaited<ReturnType<CriClient['status']>>;
    },
    async imageStatus(image) {
      const r = await call(images, 'ImageStatus', { image: { image } });
      return r.image as Awaited<ReturnType<CriClient['imageStatus']>>;
    },
    async runPodSandbox(config, runtimeHandler) {
      return (await rt('RunPodSandbox', { config, runtimeHandler })).podSandboxId as string;
    },
    async podSandboxStatus(id) {
      return (await rt('PodSandboxStatus', { podSandboxId: id })).status as SandboxStatus;
    },
    async podSandboxInfo(id) {
      return infoOf(await rt('PodSandboxStatus', { podSandboxId: id, verbose: true }));
    },
    async stopPodSandbox(id) {
      await rt('StopPodSandbox', { podSandboxId: id });
    },
    async removePodSandbox(id) {
      await rt('RemovePodSandbox', { podSandboxId: id });
    },
    async createContainer(sandboxId, config, sandboxConfig) {
      return (await rt('CreateContainer', { podSandboxId: sandboxId, config, sandboxConfig })).containerId as string;
    },
    async startContainer(id) {
      await rt('StartContainer', { containerId: id });
    },
    async containerStatus(id) {
      return (await rt('ContainerStatus', { containerId: id })).status as ContainerStatus;
    },
    async containerInfo(id) {
      return infoOf(await rt('ContainerStatus', { containerId: id, verbose: true }));
    },
    async execSync(id, cmd, timeoutSeconds = 30) {
      const r = await rt('ExecSync', { containerId: id, cmd, timeout: timeoutSeconds });
      return { stdout: (r.stdout as Buffer).toString(), stderr: (r.stderr as Buffer).toString(), exitCode: r.exitCode as number };
    },
    async containerStats(id) {
      return (await rt('ContainerStats', { containerId: id })).stats as ContainerStats;
    },
    async stopContainer(id, timeoutSeconds = 10) {
      await rt('StopContainer', { containerId: id, timeout: timeoutSeconds });
    },
    async removeContainer(id) {
      await rt('RemoveContainer', { containerId: id });
    },
    close() {
      runtime.close();
      images.close();
    },
  };
}
