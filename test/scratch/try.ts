import { makeBundle, uniqueId } from '../helpers/bundle';
import * as c from '../../lib/runtime/container';
(async () => {
  const b = makeBundle(process.argv.slice(2));
  try {
    const code = await c.run({ id: uniqueId('try'), bundle: b.dir, root: b.root });
    console.log('exit', code);
  } catch (e) { console.log('ERR', (e as Error).message); }
  finally { if (!process.env.KEEP) b.cleanup(); else console.log(b.dir); }
})();
