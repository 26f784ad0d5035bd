// Small typed readers for plugin configs: each names the failing field in a CNI code-7 error.
import { CniError, ErrInvalidNetworkConfig } from '../errors';
import { parseMac } from '../net/mac';

export function invalid(field: string, msg: string): never {
  throw new CniError(ErrInvalidNetworkConfig, `${field}: ${msg}`);
}

export function optBool(o: Record<string, unknown>, key: string, field = key): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') invalid(field, `expected true or false, got ${JSON.stringify(v)}`);
  return v;
}

export function optInt(o: Record<string, unknown>, key: string, min: number, max: number, field = key): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) invalid(field, `expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return v;
}

export function optString(o: Record<string, unknown>, key: string, field = key): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') invalid(field, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}

/** A Linux interface name: 1-15 bytes, no '/', ':' or whitespace. */
export function optIfname(o: Record<string, unknown>, key: string, field = key): string | undefined {
  const v = optString(o, key, field);
  if (v === undefined) return undefined;
  if (v.length === 0 || v.length > 15 || /[/:\s]/.test(v) || v === '.' || v === '..') invalid(field, `"${v}" is not a valid interface name`);
  return v;
}

export function optMac(o: Record<string, unknown>, key: string, field = key): string | undefined {
  const v = optString(o, key, field);
  if (v === undefined) return undefined;
  try {
    parseMac(v);
  } catch {
    invalid(field, `"${v}" is not a MAC address (want xx:xx:xx:xx:xx:xx)`);
  }
  if (parseInt(v.slice(0, 2), 16) & 1) invalid(field, `"${v}" is a multicast MAC address`);
  return v.toLowerCase();
}

export function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

// DEL reads the config leniently: it must remove what ADD made even from a config that ADD would now
// refuse (a kubelet retries a failing DEL for ever). A flag counts as on unless it is plainly off, so a
// garbled one costs a teardown that finds nothing rather than a rule left behind.
export function lenientFlag(o: Record<string, unknown>, key: string): boolean {
  const v = o[key];
  return v !== undefined && v !== null && v !== false;
}

export function lenientString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}
