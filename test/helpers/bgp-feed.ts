// The big-feed tests' feeder: a BIRD 2 whose config holds N /24s as one disabled static protocol ("feed"),
// exported over eBGP to one lab node; `birdc enable feed` announces them all at once, `disable feed`
// withdraws them. BIRD rather than GoBGP: gobgp adds one prefix per CLI call, BIRD loads a 1M-route static
// table from its config in a few seconds.

/** 32.0.0.0/4 holds 2^20 /24s and meets no lab address (10.x) */
export const FEED_RANGE = '32.0.0.0/4';
export const FEED_MAX = 1 << 20;

/** the i-th fed prefix: /24s from 32.0.0.0 up */
export const feedPrefix = (i: number): string => `${32 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`;

export function feederConf(o: { n: number; feederIp: string; nodeIp: string; holdS: number }): string {
  if (!Number.isInteger(o.n) || o.n < 1 || o.n > FEED_MAX) throw new Error(`feed size ${o.n}: want 1 to ${FEED_MAX} (the /24s of ${FEED_RANGE})`);
  const routes: string[] = [];
  for (let i = 0; i < o.n; i++) routes.push(`route ${feedPrefix(i)} blackhole;`);
  return `
router id ${o.feederIp};
log stderr { error, fatal };
protocol device {}
protocol static feed { disabled; ipv4; ${routes.join('\n')} }
protocol bgp node {
  local ${o.feederIp} as 65000;
  neighbor ${o.nodeIp} as 64512;
  hold time ${o.holdS};
  connect retry time 2;
  ipv4 { import none; export where source = RTS_STATIC; };
}
`;
}
