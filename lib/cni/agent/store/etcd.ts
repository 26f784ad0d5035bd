// The etcd v3 store: one key per subnet, <prefix>/subnets/<a.b.c.d-len>, holding the node's attributes and
// attached to an etcd lease with the policy's TTL, so a dead agent's subnet frees itself. Claims are
// transactions (create only if the key does not exist; take over our own key only at the revision we
// read), so two agents can never end up on one subnet.
import { Etcd3, Lease as EtcdLease } from 'etcd3';
import { BerthError } from '../../../util/errors';
import { Lease, LeaseLostError, LeasePolicy, NodeInfo, NoFreeSubnetError, SubnetStore } from './types';
import { checkSubnetLen, parseNet, pickSubnet } from '../subnets';

interface Entry { subnet: string; info: NodeInfo; mod: string; lease: string }

const ATTEMPTS = 20;

export class EtcdStore implements SubnetStore {
  readonly kind = 'etcd' as const;
  private held?: { lease: EtcdLease; id: string; ttlS: number };

  private constructor(private readonly client: Etcd3, private readonly prefix: string) {}

  static connect(endpoints: string[], prefix: string): EtcdStore {
    for (const e of endpoints) {
      if (!/^https?:\/\/[^/]+$/.test(e)) throw new BerthError(`invalid etcd endpoint "${e}" (want http://host:port)`, { field: '--etcd-endpoints' });
    }
    if (!prefix.startsWith('/')) throw new BerthError(`etcd prefix "${prefix}" must start with /`, { field: '--etcd-prefix' });
    const client = new Etcd3({
      hosts: endpoints,
      dialTimeout: 3000,
      // a dead etcd must fail a call within a reconcile period, not hang the agent
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 5000 }),
    });
    return new EtcdStore(client, prefix.replace(/\/+$/, ''));
  }

  private dir(): string {
    return `${this.prefix}/subnets/`;
  }

  private key(subnet: string): string {
    return this.dir() + subnet.replace('/', '-');
  }

  private async entries(): Promise<Entry[]> {
    const res = await this.client.getAll().prefix(this.dir()).exec();
    const out: Entry[] = [];
    for (const kv of res.kvs) {
      const subnet = kv.key.toString().slice(this.dir().length).replace('-', '/');
      try {
        out.push({ subnet, info: JSON.parse(kv.value.toString()) as NodeInfo, mod: kv.mod_revision, lease: kv.lease });
      } catch {
        // a foreign or broken value still occupies its subnet
        out.push({ subnet, info: { node: '?', publicIp: '', vtepMac: '', backend: 'vxlan' }, mod: kv.mod_revision, lease: kv.lease });
      }
    }
    return out;
  }

  private value(l: NodeInfo): string {
    return JSON.stringify({ node: l.node, publicIp: l.publicIp, vtepMac: l.vtepMac, backend: l.backend });
  }

  async acquire(info: NodeInfo, policy: LeasePolicy, preferred?: string): Promise<Lease> {
    const net = parseNet(policy.network, 'network');
    checkSubnetLen(net, policy.subnetLen, 'subnetLen');
    const ttlS = Math.max(1, Math.ceil(policy.ttlMs / 1000));
    const lease = this.client.lease(ttlS, { autoKeepAlive: false });
    lease.on('lost', () => undefined); // handled by renew(); an unhandled 'lost' would not matter, but is noisy
    const id = await lease.grant();
    for (let i = 0; i < ATTEMPTS; i++) {
      const all = await this.entries();
      const mine = all.find((e) => e.info.node === info.node);
      let ok: boolean;
      let subnet: string;
      if (mine) {
        // our key from before a restart (its old etcd lease may still be alive): move it to the new lease
        subnet = mine.subnet;
        ok = (await this.client.if(this.key(subnet), 'Mod', '==', mine.mod)
          .then(this.client.put(this.key(subnet)).value(this.value(info)).lease(id)).commit()).succeeded;
      } else {
        const s = pickSubnet(net, policy.subnetLen, new Set(all.map((e) => e.subnet)), preferred);
        if (!s) {
          await lease.revoke().catch(() => undefined);
          throw new NoFreeSubnetError(policy.network, policy.subnetLen);
        }
        subnet = s;
        ok = (await this.client.if(this.key(subnet), 'Create', '==', 0)
          .then(this.client.put(this.key(subnet)).value(this.value(info)).lease(id)).commit()).succeeded;
      }
      if (ok) {
        // a previous etcd lease of ours is not revoked: it may still carry keys; keyless, it just expires
        this.held = { lease, id, ttlS };
        return { ...info, subnet, expiresAt: Date.now() + ttlS * 1000 };
      }
      // another agent changed the store between our read and our write: read again and retry
    }
    await lease.revoke().catch(() => undefined);
    throw new BerthError(`could not claim a subnet after ${ATTEMPTS} attempts (store too busy)`);
  }

  async renew(lease: Lease, _ttlMs: number): Promise<Lease> {
    const held = this.held;
    if (!held) throw new LeaseLostError(lease.subnet, 'no etcd lease held');
    let ttl: string;
    try {
      ttl = String((await held.lease.keepaliveOnce()).TTL);
    } catch (e) {
      if ((e as Error).name === 'EtcdLeaseInvalidError') throw new LeaseLostError(lease.subnet, 'etcd lease expired');
      throw e;
    }
    if (ttl === '0') throw new LeaseLostError(lease.subnet, 'etcd lease expired');
    // rewrite the attributes (the VTEP MAC may have changed), but only while the key is still on our lease
    const ok = (await this.client.if(this.key(lease.subnet), 'Lease', '==', held.id)
      .then(this.client.put(this.key(lease.subnet)).value(this.value(lease)).lease(held.id)).commit()).succeeded;
    if (!ok) throw new LeaseLostError(lease.subnet, 'key no longer on our etcd lease');
    return { ...lease, expiresAt: Date.now() + Number(ttl) * 1000 };
  }

  async release(lease: Lease): Promise<void> {
    const held = this.held;
    this.held = undefined;
    if (held) await held.lease.revoke(); // deletes the key with it
    else await this.client.if(this.key(lease.subnet), 'Value', '==', this.value(lease)).then(this.client.delete().key(this.key(lease.subnet))).commit();
  }

  async list(): Promise<Lease[]> {
    // etcd expires keys itself: everything listed is live; the remaining TTL is not fetched (0 = unknown)
    return (await this.entries()).filter((e) => e.info.node !== '?').map((e) => ({ ...e.info, subnet: e.subnet, expiresAt: 0 }));
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
