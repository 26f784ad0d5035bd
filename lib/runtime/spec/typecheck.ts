// Walks a config beside the schema table (schema.ts): every field the spec defines must have its type, and
// no string that reaches the kernel may hold a NUL byte (C would cut it there). Null in an optional field
// is Go's zero value, which is what runc sees: the field is removed, so that planning sees it absent.
// The tree is built as walks reach its parts (a config holds few of the fields the spec defines: building
// all of it cost ~0.7 ms of every cold `berth run`); the field path is put together only for an error.
import { ConfigError } from '../../util/errors';
import { type FieldKind, type Kind, NUL_ALLOWED, PROCESS_SCHEMA, SPEC_SCHEMA, type Table, joinPath } from './schema';

interface Node {
  kind: Kind;
  required: boolean;
  /** strings (and map keys) below may hold NUL */
  nulOk: boolean;
  props: Map<string, Node> | null;
  /** the names of required props, checked for presence apart from the walk over what is there */
  requiredProps: string[];
  items: Node | null;
  /** a map's values, for any key */
  values: Node | null;
  /** integers: the range of the Go type */
  min: number;
  max: number;
  /** the table of the fields below, while they are not grafted yet (expanded) */
  pending: { table: Table; prefix: string } | null;
}

const RANGES: Partial<Record<Kind, [number, number]>> = {
  integer: [-Infinity, Infinity],
  // JSON.parse rounds 2^63-1 and 2^64-1 up to 2^63 and 2^64: accept those
  int32: [-(2 ** 31), 2 ** 31 - 1], int64: [-(2 ** 63), 2 ** 63], uint16: [0, 65535], uint32: [0, 2 ** 32 - 1],
  uint64: [0, 2 ** 64], id: [0, 2 ** 31 - 1],
};

function node(spec: string, nulOk: boolean): Node {
  const required = spec.endsWith('!');
  const kind = (required ? spec.slice(0, -1) : spec) as Kind;
  const [min, max] = RANGES[kind] ?? [0, 0];
  return { kind, required, nulOk, props: null, requiredProps: [], items: null, values: null, min, max, pending: null };
}

function compile(table: Table): Node {
  const root = node(table[''] as FieldKind, false);
  root.pending = { table, prefix: '' };
  return root;
}

/** `n` with the fields below it grafted (once). */
function expanded(n: Node): Node {
  if (n.pending) {
    const { table, prefix } = n.pending;
    n.pending = null;
    graft(n, table, prefix);
  }
  return n;
}

/** Adds the fields of `table` below `at`, the node of its '' entry; `prefix`: the path of `at`. */
function graft(at: Node, table: Table, prefix: string): void {
  for (const key of Object.keys(table)) {
    if (key === '') continue;
    const spec = table[key];
    const full = joinPath(prefix, key);
    const tokens = key.replace(/\[\]/g, '.[]').split('.').filter(Boolean);
    let parent = at;
    for (let i = 0; i < tokens.length - 1; i++) {
      const t = tokens[i];
      const existing = t === '[]' ? parent.items : t === '*' ? parent.values : parent.props?.get(t);
      if (!existing) throw new Error(`schema: ${full} comes before its parent`);
      // its own table first, as when every table was grafted at once
      parent = expanded(existing);
    }
    const t = tokens[tokens.length - 1];
    const nested = typeof spec !== 'string';
    const n = node(nested ? spec[''] as FieldKind : spec, parent.nulOk || NUL_ALLOWED.has(full));
    if (t === '[]') parent.items = n;
    else if (t === '*') parent.values = n;
    else {
      (parent.props ??= new Map()).set(t, n);
      if (n.required) parent.requiredProps.push(t);
    }
    if (nested) n.pending = { table: spec, prefix: full };
  }
}

const SPEC_TREE = compile(SPEC_SCHEMA);
// only `exec --process` checks a process on its own: create and run do not build this one
let processTree: Node | undefined;

const PLAIN_KEY = /^[\w.\-/]+$/;

/** The field path of the stack: `linux.sysctl.kernel.shmmax`, `mounts[2].options[0]`, `linux.sysctl["a\nb"]`. */
function fieldOf(stack: (string | number)[]): string {
  let out = '';
  for (const s of stack) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (!PLAIN_KEY.test(s)) out += `[${JSON.stringify(s)}]`;
    else out += out ? `.${s}` : s;
  }
  return out;
}

/** `base` and a map key: `linux.sysctl.kernel.shmmax`, or `linux.sysctl["a\nb"]` for a key that needs quoting. */
export function memberField(base: string, key: string): string {
  return fieldOf([base, key]);
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Walker {
  constructor(private readonly stack: (string | number)[]) {}

  private fail(message: string): never {
    throw new ConfigError(fieldOf(this.stack), message);
  }

  /** v is neither undefined nor null */
  value(v: unknown, n: Node): void {
    expanded(n);
    switch (n.kind) {
      case 'object':
        if (!isObject(v)) this.fail(`expected object, got ${jsonType(v)}`);
        // walk what is there (a config holds few of the fields the spec defines), then what must be
        for (const k of Object.keys(v)) {
          const child = n.props ? n.props.get(k) : n.values;
          if (!child) continue;
          if (n.values && !n.nulOk && k.includes('\0')) { this.stack.push(k); this.fail('the key contains a NUL byte'); }
          this.member(v, k, child);
        }
        for (const k of n.requiredProps) if (v[k] === undefined) this.member(v, k, n.props!.get(k)!);
        return;
      case 'array':
        if (!Array.isArray(v)) this.fail(`expected array, got ${jsonType(v)}`);
        for (let i = 0; i < v.length; i++) {
          this.stack.push(i);
          const x: unknown = v[i];
          if (x === null || x === undefined) this.fail(`expected ${typeName(n.items!.kind)}, got ${x === null ? 'null' : 'nothing'}`);
          this.value(x, n.items!);
          this.stack.pop();
        }
        return;
      case 'string':
        if (typeof v !== 'string') this.fail(`expected string, got ${jsonType(v)}`);
        if (!n.nulOk && v.includes('\0')) this.fail('contains a NUL byte');
        return;
      case 'boolean':
        if (typeof v !== 'boolean') this.fail(`expected boolean, got ${jsonType(v)}`);
        return;
      default: {
        if (typeof v !== 'number') this.fail(`expected ${typeName(n.kind)}, got ${jsonType(v)}`);
        if (Number.isInteger(v) && v >= n.min && v <= n.max) return;
        if (n.kind === 'id' && Number.isInteger(v)) this.fail(`uids and gids must be in range 0-2147483647, got ${v}`);
        this.fail(`expected ${typeName(n.kind)}, got ${v}`);
      }
    }
  }

  private member(obj: Record<string, unknown>, key: string, child: Node): void {
    const x = obj[key];
    this.stack.push(key);
    if (x === undefined || x === null) {
      if (child.required) this.fail(x === null ? `expected ${typeName(child.kind)}, got null` : `missing (expected ${typeName(child.kind)})`);
      if (x === null) delete obj[key];
    } else {
      this.value(x, child);
    }
    this.stack.pop();
  }
}

function typeName(k: Kind): string {
  return k === 'id' ? 'uint32' : k;
}

/**
 * Checks config.json against the schema, and removes null optional fields (Go's zero value, as runc reads
 * them). Throws a ConfigError naming the first wrong field.
 */
export function checkSpecTypes(spec: unknown): void {
  if (!isObject(spec)) throw new ConfigError('config.json', `expected object, got ${jsonType(spec)}`);
  new Walker([]).value(spec, SPEC_TREE);
}

/** The same for a process alone (`berth exec --process`); `field` names it in errors. */
export function checkProcessTypes(proc: unknown, field = 'process'): void {
  if (proc === null || proc === undefined) throw new ConfigError(field, 'missing: a container needs a process');
  new Walker([field]).value(proc, processTree ??= compile(PROCESS_SCHEMA));
}
