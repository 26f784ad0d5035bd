// A new network namespace starts with lo down; Docker, podman and CRI runtimes bring it up (the CNI
// loopback plugin's job), so that the pod's containers talk over 127.0.0.1.
import { mustGetLink, setLink } from '../cni/net/link';
import { openRtnl } from '../cni/net/netns';

export async function loopbackUp(netns: string): Promise<void> {
  const nl = openRtnl(netns);
  try {
    await setLink(nl, (await mustGetLink(nl, 'lo')).index, { up: true });
  } finally {
    nl.close();
  }
}
