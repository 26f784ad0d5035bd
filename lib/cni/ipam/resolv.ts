// Reads a resolv.conf into the CNI DNS shape (berth-ipam's `resolvConf` option).
import fs = require('node:fs');
import { CniError, ErrInvalidNetworkConfig } from '../errors';
import type { DNS } from '../types';

export function parseResolvConf(text: string): DNS {
  const dns: DNS = {};
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0]) (dns.nameservers ??= []).push(rest[0]);
    else if (key === 'domain' && rest[0]) dns.domain = rest[0];
    else if (key === 'search') dns.search = rest;
    else if (key === 'options') (dns.options ??= []).push(...rest);
  }
  return dns;
}

export function readResolvConf(file: string): DNS {
  try {
    return parseResolvConf(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new CniError(ErrInvalidNetworkConfig, `ipam.resolvConf: cannot read ${file}: ${(e as Error).message}`);
  }
}
