// The busybox image (lib/overlayfs/busybox) written as a docker-archive or an OCI layout for client tests.
import { busyboxImage } from '../../lib/overlayfs/busybox';
import { writeDockerArchive, writeOciLayout } from '../../lib/overlayfs/builder';

export { busyboxImage };

export async function writeBusyboxDockerArchive(file: string, repoTag = 'docker.io/library/busybox:latest'): Promise<void> {
  await writeDockerArchive(await busyboxImage(), file, repoTag);
}

export async function writeBusyboxLayout(dir: string, tag = 'latest'): Promise<void> {
  writeOciLayout(await busyboxImage(), dir, tag);
}
