// No import cycles between lib modules. Read from the compiled JavaScript (dist/lib), where tsc has
// dropped the type-only imports and every runtime dependency is a require() call, the lazy ones inside
// functions included: a cycle there means a module can observe another half-loaded.
import t from 'tap';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const DIST = path.resolve(__dirname, '..', '..', 'lib');
const SOURCES = path.resolve(__dirname, '..', '..', '..', 'lib');

/**
 * Cycles known today, each fixed on another branch: the test fails once one is gone, so that its entry
 * is removed and the test is strict again. Members as lib/ paths, sorted.
 */
// None left: a cycle that must stay would be listed here with the reason.
const KNOWN: { members: string[]; why: string }[] = [];

function jsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? jsFiles(p) : p.endsWith('.js') ? [p] : [];
  });
}

const libName = (js: string) => path.posix.join('lib', path.relative(DIST, js).split(path.sep).join('/').replace(/\.js$/, '.ts'));

/** Module -> the modules it requires. Only files that still have a source count (dist keeps stale ones). */
function importGraph(dist: string, sources: string): Map<string, string[]> {
  const sourceOf = (js: string) => path.join(sources, path.relative(dist, js)).replace(/\.js$/, '.ts');
  const files = jsFiles(dist).filter((f) => fs.existsSync(sourceOf(f)));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    // comments may quote require() calls; strings of generated code do not exist in lib
    const code = fs.readFileSync(file, 'utf8').replace(/\/\*[^]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const deps = new Set<string>();
    for (const m of code.matchAll(/\brequire\(\s*(["'])(\.{1,2}\/[^"']*)\1\s*\)/g)) {
      const base = path.resolve(path.dirname(file), m[2]);
      const target = [`${base}.js`, path.join(base, 'index.js'), base].find((c) => known.has(c));
      if (target) deps.add(target);
    }
    graph.set(file, [...deps]);
  }
  return graph;
}

/** Strongly connected components with more than one module, or a module that requires itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)!.includes(v)) out.push(component);
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

/** One concrete cycle through the component's first module (shortest, by breadth-first search), as text. */
function describe(graph: Map<string, string[]>, component: string[]): string {
  const members = new Set(component);
  const start = [...component].sort()[0];
  const via = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v)!) {
      if (!members.has(w)) continue;
      if (w === start) {
        const loop = [start];
        for (let u = v; u !== start; u = via.get(u)!) loop.splice(1, 0, u);
        return [...loop, start].map(libName).join(' -> ');
      }
      if (!via.has(w)) {
        via.set(w, v);
        queue.push(w);
      }
    }
  }
  return component.map(libName).join(', ');
}

t.test('no import cycles between lib modules (runtime requires, lazy ones included)', async (t) => {
  const graph = importGraph(DIST, SOURCES);
  t.ok(graph.size > 100, `read ${graph.size} compiled modules of lib/`);
  const found = cycles(graph).map((c) => ({ members: c.map(libName).sort(), text: describe(graph, c) }));
  const isKnown = (members: string[]) => KNOWN.some((k) => JSON.stringify(k.members) === JSON.stringify(members));
  for (const c of found.filter((f) => isKnown(f.members))) t.comment(`known cycle (${KNOWN.find((k) => JSON.stringify(k.members) === JSON.stringify(c.members))!.why}): ${c.text}`);
  t.same(found.filter((f) => !isKnown(f.members)).map((f) => f.text), [], 'no cycle beyond the known ones');
  for (const k of KNOWN) t.ok(found.some((f) => JSON.stringify(f.members) === JSON.stringify(k.members)), `known cycle still there (remove its entry once fixed): ${k.members.join(', ')}`);
});

t.test('the reader sees static and lazy requires and index files, not comments or stale files', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cycles-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dist = path.join(tmp, 'dist');
  const sources = path.join(tmp, 'lib');
  const write = (name: string, js: string, withSource = true) => {
    fs.mkdirSync(path.dirname(path.join(dist, name)), { recursive: true });
    fs.mkdirSync(path.dirname(path.join(sources, name)), { recursive: true });
    fs.writeFileSync(path.join(dist, name), js);
    if (withSource) fs.writeFileSync(path.join(sources, name.replace(/\.js$/, '.ts')), '');
  };
  write('a.js', 'const b_1 = require("./b");\n// require("./c") in a comment\n');
  write('b.js', 'function later() { return require(\'./d\'); }\nconst n = require("node:path");\n');
  write('d/index.js', 'const x = __importStar(require("../a"));\n/* require("../c") */');
  write('c.js', 'require("./a");');
  write('stale.js', 'require("./a");', false); // compiled once, its source since removed
  const graph = importGraph(dist, sources);
  const rel = (m: Map<string, string[]>) => Object.fromEntries([...m].map(([k, v]) => [path.relative(dist, k), v.map((d) => path.relative(dist, d))]));
  t.same(rel(graph), { 'a.js': ['b.js'], 'b.js': ['d/index.js'], 'c.js': ['a.js'], 'd/index.js': ['a.js'] });
  t.same(cycles(graph).map((c) => c.map((f) => path.relative(dist, f)).sort()), [['a.js', 'b.js', 'd/index.js']]);
});

t.test('the cycle finder: a direct pair, a longer loop, a self-require, and none in a chain', async (t) => {
  const g = (edges: Record<string, string[]>) => new Map(Object.entries(edges));
  const names = (gr: Map<string, string[]>) => cycles(gr).map((c) => c.sort());
  t.same(names(g({ a: ['b'], b: ['a'], c: ['a'] })), [['a', 'b']]);
  t.same(names(g({ a: ['b'], b: ['c'], c: ['a'], d: [] })), [['a', 'b', 'c']]);
  t.same(names(g({ a: ['b'], b: ['c'], c: [] })), []);
  t.same(names(g({ a: ['a'] })), [['a']]);
  const loop = g({ [`${DIST}/x.js`]: [`${DIST}/y.js`], [`${DIST}/y.js`]: [`${DIST}/z.js`], [`${DIST}/z.js`]: [`${DIST}/x.js`] });
  t.equal(describe(loop, cycles(loop)[0]), 'lib/x.ts -> lib/y.ts -> lib/z.ts -> lib/x.ts');
});
