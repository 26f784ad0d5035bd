// Reading CNI JSON the way the reference plugins (Go, encoding/json) read it. Go matches an object key to
// a struct field exactly if it can and otherwise case-insensitively, so runtimes written in Go send keys in
// whatever case their own structs marshal to: containerd's CRI plugin passes port mappings as
// {"HostPort":8090,"ContainerPort":80,...}. canonicalKeys() rewrites such an object to the field names
// the plugin's code reads, so that every plugin accepts what its reference counterpart accepts and no
// plugin matches keys itself.

/**
 * What a plugin reads, as Go would declare it: `true` a value taken as it is (number, string, a map whose
 * keys are data), an object a struct (its fields, in declaration order), `[shape]` a slice of shape.
 */
export type GoShape = true | { readonly [field: string]: GoShape } | readonly [GoShape];

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Go's case folding of a key (encoding/json foldName): ASCII letters fold to one case, and the two
 * non-ASCII letters whose simple fold is an ASCII letter (U+017F long s, U+212A Kelvin sign) fold with
 * them. Other non-ASCII characters never equal an ASCII field name, so they are left as they are.
 */
export function goFold(key: string): string {
  // ASCII only (nearly every key): toUpperCase changes exactly a-z then
  if (!/[^\x00-\x7f]/.test(key)) return key.toUpperCase();
  return key.replace(/[a-z\u017f\u212a]/g, (c) => (c === '\u017f' ? 'S' : c === '\u212a' ? 'K' : c.toUpperCase()));
}

interface Fields { names: ReadonlySet<string>; byFold: ReadonlyMap<string, string> }

/** A struct's fields with the first one (in declaration order) of each fold. */
function fieldsFrom(names: readonly string[]): Fields {
  const byFold = new Map<string, string>();
  for (const name of names) {
    const folded = goFold(name);
    if (!byFold.has(folded)) byFold.set(folded, name);
  }
  return { names: new Set(names), byFold };
}

const fieldIn = (f: Fields, key: string): string | undefined => (f.names.has(key) ? key : f.byFold.get(goFold(key)));

/** The field a key decodes into: the exact name first, else the first field (in order) that folds equal. */
export function goField(fields: readonly string[], key: string): string | undefined {
  return fieldIn(fieldsFrom(fields), key);
}

/** per struct shape (module constants), its Fields: no folding of every field for every key */
const fieldsOf = new WeakMap<object, Fields>();

function structFields(struct: { readonly [field: string]: GoShape }): Fields {
  let f = fieldsOf.get(struct);
  if (!f) fieldsOf.set(struct, (f = fieldsFrom(Object.keys(struct))));
  return f;
}

/** Go decodes a repeated struct or map into the value it already has (fields merge); anything else is replaced. */
function merge(prev: unknown, next: unknown): unknown {
  if (!isObj(prev) || !isObj(next)) return next;
  const out: Obj = { ...prev };
  for (const [k, v] of Object.entries(next)) out[k] = merge(out[k], v);
  return out;
}

/**
 * `value` with every struct key renamed to its field (as Go would decode it: exact match preferred, later
 * keys for one field override earlier ones, nested structs merge), recursively along `shape`. Keys that
 * name no field are kept as they are (Go ignores them; a plugin may pass them on). Values of the wrong type
 * are left for the plugin's validation to name. Idempotent, and a new object: the input is not modified.
 * JSON.parse has already merged keys that repeat exactly (the last wins, as in Go).
 */
export function canonicalKeys(value: unknown, shape: GoShape): unknown {
  if (shape === true) return value;
  if (Array.isArray(shape)) return Array.isArray(value) ? value.map((v) => canonicalKeys(v, shape[0])) : value;
  if (!isObj(value)) return value;
  const struct = shape as { readonly [field: string]: GoShape };
  const fields = structFields(struct);
  const out: Obj = {};
  const unknown: Obj = {};
  for (const [key, v] of Object.entries(value)) {
    const field = fieldIn(fields, key);
    if (field === undefined) unknown[key] = v;
    else out[field] = Object.prototype.hasOwnProperty.call(out, field) ? merge(out[field], canonicalKeys(v, struct[field])) : canonicalKeys(v, struct[field]);
  }
  return { ...unknown, ...out };
}

/** Two shapes as one: the fields of both (nested structs joined the same way). */
export function joinShapes(a: GoShape, b: GoShape): GoShape {
  if (a === true || Array.isArray(a)) return b === true ? a : b;
  if (b === true || Array.isArray(b)) return a;
  const sa = a as { readonly [field: string]: GoShape };
  const sb = b as { readonly [field: string]: GoShape };
  const out: { [field: string]: GoShape } = { ...sa };
  for (const [k, v] of Object.entries(sb)) out[k] = k in sa ? joinShapes(sa[k], v) : v;
  return out;
}

// The shapes of the spec's own types (libcni's types and types/100), shared by every plugin.
export const DNS_SHAPE: GoShape = { nameservers: true, domain: true, search: true, options: true };
export const ROUTE_SHAPE: GoShape = { dst: true, gw: true, mtu: true, advmss: true, priority: true, table: true, scope: true };
export const RESULT_SHAPE: GoShape = {
  cniVersion: true,
  interfaces: [{ name: true, mac: true, mtu: true, sandbox: true, socketPath: true, pciID: true }],
  ips: [{ interface: true, address: true, gateway: true }],
  routes: [ROUTE_SHAPE],
  dns: DNS_SHAPE,
  // 0.1.0 and 0.2.0
  ip4: { ip: true, gateway: true, routes: [ROUTE_SHAPE] },
  ip6: { ip: true, gateway: true, routes: [ROUTE_SHAPE] },
};
/** types.NetConf plus GC's attachment list: what the skel reads before a plugin does. */
export const NETCONF_SHAPE: GoShape = {
  cniVersion: true, name: true, type: true, capabilities: true, ipam: { type: true }, dns: DNS_SHAPE, prevResult: true,
  runtimeConfig: {}, args: {}, 'cni.dev/valid-attachments': [{ containerID: true, ifname: true }],
};

/** NETCONF_SHAPE joined with each plugin's shape (a module constant), once per plugin */
const configShapes = new Map<GoShape, GoShape>();

/** A network config with the keys of NetConf and of the plugin's own shape canonical. */
export function canonicalConfig<T>(conf: T, pluginShape?: GoShape): T {
  if (!pluginShape) return canonicalKeys(conf, NETCONF_SHAPE) as T;
  let shape = configShapes.get(pluginShape);
  if (!shape) configShapes.set(pluginShape, (shape = joinShapes(NETCONF_SHAPE, pluginShape)));
  return canonicalKeys(conf, shape) as T;
}
