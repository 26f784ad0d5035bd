// The pod sandbox image: native/src/pause.c (built static by `npm run build`) as /pause, run as 65535 as
// Kubernetes' own pause image is, written as a docker-archive for `ctr images import`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildImage, writeDockerArchive } from '../../lib/overlayfs/builder';

export const PAUSE = path.resolve(__dirname, '..', '..', '..', 'native', 'build', 'Release', 'berth-pause');

export async function writePauseDockerArchive(file: string, repoTag: string): Promise<void> {
  if (!fs.existsSync(PAUSE)) throw new Error(`${PAUSE} not found: run npm run build`);
  const img = await buildImage([{ entries: [{ name: 'pause', content: fs.readFileSync(PAUSE), mode: 0o755 }], gzip: true }], {
    config: { Entrypoint: ['/pause'], User: '65535:65535', WorkingDir: '/' },
  });
  await writeDockerArchive(img, file, repoTag);
}
