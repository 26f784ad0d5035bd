// A raw-socket BGP client for tests: whole messages in, encoded messages out, no FSM of its own.
import * as net from 'node:net';
import { AFI, decodeMessage, emptyCapabilities, encodeMessage, Framer, type BgpMessage, type Capabilities } from '../../lib/cni/bgp/codec';

/** a BGP client that reads whole messages from its socket */
export class RawPeer {
  readonly sock: net.Socket;
  private framer = new Framer();
  private queue: BgpMessage[] = [];
  private waiters: Array<() => void> = [];
  closed = false;
  /** the speaker's OPEN, once establish() saw it */
  open?: Extract<BgpMessage, { type: 'open' }>;
  constructor(port: number) {
    this.sock = net.connect({ host: '127.0.0.1', port });
    this.sock.setNoDelay(true);
    this.sock.on('data', (d) => { for (const f of this.framer.push(d)) this.queue.push(decodeMessage(f)); this.wake(); });
    this.sock.on('close', () => { this.closed = true; this.wake(); });
    this.sock.on('error', () => {});
  }
  private wake(): void { for (const w of this.waiters.splice(0)) w(); }
  /** next message, or undefined when the connection closed or nothing came in time */
  async next(ms = 3000): Promise<BgpMessage | undefined> {
    const end = Date.now() + ms;
    while (this.queue.length === 0 && !this.closed && Date.now() < end) {
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, Math.max(1, Math.min(50, end - Date.now()))); });
    }
    return this.queue.shift();
  }
  send(b: Buffer): void { this.sock.write(b); }
  /** `drain`: read up to the speaker's IPv6 End-of-RIB (off when its selection is deferred: none comes yet) */
  async establish(extra: Partial<Capabilities> = {}, holdTime = 90, drain = true): Promise<void> {
    await new Promise<void>((r, j) => { this.sock.once('connect', r); this.sock.once('error', j); });
    const caps = emptyCapabilities();
    caps.fourOctetAs = 65002;
    caps.multiprotocol.push({ afi: AFI.IPV4, safi: 1 }, { afi: AFI.IPV6, safi: 1 });
    caps.routeRefresh = true;
    Object.assign(caps, extra);
    this.send(encodeMessage({ type: 'open', version: 4, asn: 65002, holdTime, routerId: '10.0.0.2', capabilities: caps }));
    const open = await this.next();
    if (open?.type !== 'open') throw new Error(`expected OPEN, got ${open?.type}`);
    this.open = open;
    this.send(encodeMessage({ type: 'keepalive' }));
    if (!drain) return;
    // KEEPALIVE, the initial UPDATE, then End-of-RIB for IPv4 and, last, IPv6 (an empty MP_UNREACH)
    for (let m = await this.next(); m && !(m.type === 'update' && m.attrs.mpUnreach?.withdrawn.length === 0); m = await this.next()) { /* drain */ }
  }
}
