// `berth lab demo`: berth's main job end to end on the embedded default. A 2-node lab, a busybox image
// built from Debian's busybox-static and imported into the OverlayFS store, a container from it on each
// node attached to the VXLAN overlay with berth-vxlan, pinging each other; a readable summary; a clean
// teardown, also on failure.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Lab } from './lab';
import type { Pod } from './pods';

export { BUSYBOX, busyboxRootfs } from '../overlayfs/busybox';
import { BUSYBOX } from '../overlayfs/busybox';

interface PingOutcome { from: string; to: string; code: number; output: string }

/** Builds the busybox image from busybox-static and imports it into a store under the lab's directory. */
async function importBusybox(dataRoot: string, workDir: string): Promise<string> {
  const { busyboxImage } = await import('../overlayfs/busybox');
  const { writeOciLayout } = await import('../overlayfs/builder');
  const { importImage } = await import('../overlayfs');
  const layout = path.join(workDir, 'busybox-oci');
  writeOciLayout(await busyboxImage(BUSYBOX), layout, 'latest');
  await importImage(dataRoot, layout, { name: 'busybox' });
  return 'busybox';
}

async function pingFromContainer(lab: Lab, dataRoot: string, image: string, from: Pod, to: Pod): Promise<PingOutcome> {
  const { specFromImage } = await import('../runtime/image-spec');
  const { prepareRootfs, releaseRootfs } = await import('../overlayfs');
  const c = await import('../runtime/container');
  const id = `${lab.state.name}-${from.name}`;
  const { rootfs, config } = await prepareRootfs(dataRoot, image, id);
  const work = path.join(lab.state.dir, 'bundles', from.name);
  fs.mkdirSync(work, { recursive: true });
  const outFile = path.join(work, 'output');
  const out = fs.openSync(outFile, 'w');
  const nul = fs.openSync('/dev/null', 'r');
  try {
    const spec = specFromImage(config, rootfs, { args: ['ping', '-c', '3', '-W', '2', to.ip], hostname: from.name });
    // ping needs a raw socket
    spec.process!.capabilities = { bounding: ['CAP_NET_RAW'], effective: ['CAP_NET_RAW'], permitted: ['CAP_NET_RAW'] };
    // the pod's network namespace, attached to the overlay by berth-vxlan
    spec.linux!.namespaces = spec.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/run/netns/${from.ns}` } : n));
    const code = await c.run({ id, spec, bundle: work, root: path.join(lab.state.dir, 'containers'), stdio: [nul, out, out] });
    return { from: from.name, to: to.name, code, output: fs.readFileSync(outFile, 'utf8') };
  } finally {
    fs.closeSync(out);
    fs.closeSync(nul);
    await releaseRootfs(dataRoot, id);
  }
}

export async function runDemo(name: string, print: (line: string) => void): Promise<boolean> {
  print(`setting up lab "${name}": 2 nodes, VXLAN overlay, embedded store ...`);
  const lab = await Lab.up({ name, nodes: 2 });
  try {
    const dataRoot = path.join(lab.state.dir, 'images');
    const image = await importBusybox(dataRoot, lab.state.dir);
    print(`  image busybox: built from ${BUSYBOX}, imported into ${dataRoot}`);
    const a = lab.addPod('n1', 'busybox1');
    const b = lab.addPod('n2', 'busybox2');
    for (const n of lab.state.nodes) {
      const s = lab.settings(n.name);
      print(`  node ${n.name}: underlay ${n.ip}, subnet ${s.subnet}, container MTU ${s.mtu}`);
    }
    print(`  container busybox1 on n1: ${a.cidr}`);
    print(`  container busybox2 on n2: ${b.cidr}`);
    let ok = true;
    for (const [from, to] of [[a, b], [b, a]]) {
      const r = await pingFromContainer(lab, dataRoot, image, from, to);
      const stats = /(\d+) packets transmitted, (\d+) packets received.*\n.*= [\d.]+\/([\d.]+)\//.exec(r.output);
      const good = r.code === 0 && stats !== null && stats[2] === stats[1];
      ok &&= good;
      print(good
        ? `  ${from.name} (${from.node}) -> ${to.name} (${to.node}) ${to.ip}: ${stats![2]}/${stats![1]} replies, avg ${stats![3]} ms`
        : `  ${from.name} (${from.node}) -> ${to.name} (${to.node}) ${to.ip}: FAILED (exit ${r.code}): ${r.output.trim().split('\n').slice(-2).join(' | ')}`);
    }
    print(ok ? 'result: containers on different nodes reach each other over berth\'s VXLAN overlay' : 'result: FAILED');
    return ok;
  } finally {
    await lab.down();
    print(`lab "${name}" removed`);
  }
}
