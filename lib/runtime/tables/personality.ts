// personality(2) values for linux.personality (<linux/personality.h>).
import { ConfigError } from '../../util/errors';

/** The execution domains the runtime spec allows. */
export const PERSONALITY_DOMAINS: Readonly<Record<string, number>> = {
  LINUX: 0x0000, // PER_LINUX
  LINUX32: 0x0008, // PER_LINUX32: uname reports a 32-bit machine
};

/** Flag bits ORed into the domain. The spec defines no flag names yet; these are the kernel's. */
export const PERSONALITY_FLAGS: Readonly<Record<string, number>> = {
  UNAME26: 0x0020000,
  ADDR_NO_RANDOMIZE: 0x0040000,
  FDPIC_FUNCPTRS: 0x0080000,
  MMAP_PAGE_ZERO: 0x0100000,
  ADDR_COMPAT_LAYOUT: 0x0200000,
  READ_IMPLIES_EXEC: 0x0400000,
  ADDR_LIMIT_32BIT: 0x0800000,
  SHORT_INODE: 0x1000000,
  WHOLE_SECONDS: 0x2000000,
  STICKY_TIMEOUTS: 0x4000000,
  ADDR_LIMIT_3GB: 0x8000000,
};

export function personalityDomain(domain: string, field: string): number {
  const n = Object.prototype.hasOwnProperty.call(PERSONALITY_DOMAINS, domain) ? PERSONALITY_DOMAINS[domain] : undefined;
  if (n === undefined) throw new ConfigError(field, `unknown personality domain ${JSON.stringify(domain)} (LINUX or LINUX32)`);
  return n;
}

/** OR of flag names; throws naming `field[i]` for an unknown one. */
export function personalityFlags(flags: string[], field: string): number {
  let out = 0;
  flags.forEach((name, i) => {
    const n = Object.prototype.hasOwnProperty.call(PERSONALITY_FLAGS, name) ? PERSONALITY_FLAGS[name] : undefined;
    if (n === undefined) throw new ConfigError(`${field}[${i}]`, `unknown personality flag ${JSON.stringify(name)}`);
    out |= n;
  });
  return out;
}

/** The argument for personality(2): domain | flags. */
export function personalityValue(p: { domain: string; flags?: string[] }, field: string): number {
  return personalityDomain(p.domain, `${field}.domain`) | personalityFlags(p.flags ?? [], `${field}.flags`);
}
