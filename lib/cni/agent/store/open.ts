// Opens the store driver a config names. Drivers are loaded on demand: the etcd client (grpc) costs most of
// a second to require.
import { BerthError } from '../../../util/errors';
import type { StoreKind, SubnetStore } from './types';

export interface StoreOptions {
  kind: StoreKind;
  /** embedded: the directory shared by every agent of the cluster */
  dir?: string;
  /** etcd: client URLs */
  endpoints?: string[];
  /** etcd: key prefix */
  prefix?: string;
}

export async function openStore(o: StoreOptions): Promise<SubnetStore> {
  if (o.kind === 'embedded') {
    if (!o.dir) throw new BerthError('the embedded store needs a directory', { field: '--store-dir' });
    const { FileStore } = require('./file') as typeof import('./file');
    return new FileStore(o.dir);
  }
  if (o.kind === 'etcd') {
    if (!o.endpoints?.length) throw new BerthError('the etcd store needs at least one endpoint', { field: '--etcd-endpoints' });
    const { EtcdStore } = require('./etcd') as typeof import('./etcd');
    return EtcdStore.connect(o.endpoints, o.prefix ?? '/berth/network');
  }
  throw new BerthError(`unknown store "${String(o.kind)}" (want embedded or etcd)`, { field: '--store' });
}
