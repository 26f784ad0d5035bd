// On-demand benchmark (not a CI gate): validating runc's default config against parsing it. Every create
// pays the JSON.parse anyway, so validation should cost less than that. Medians of 11 rounds of 500.
// Run: node dist/bench/spec-validate.js
import { defaultSpec } from '../lib/runtime/spec/default';
import { validateSpec } from '../lib/runtime/spec/validate';

const spec = defaultSpec();
const text = JSON.stringify(spec);
const perCallMicros = (f: () => void, n: number): number => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t0) / n / 1000;
};
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1];

for (let i = 0; i < 2000; i++) { validateSpec(spec); JSON.parse(text); }
const rounds = Array.from({ length: 11 }, () => [perCallMicros(() => validateSpec(spec), 500), perCallMicros(() => JSON.parse(text), 500)]);
const validate = median(rounds.map((r) => r[0]));
const parse = median(rounds.map((r) => r[1]));
console.log(`validateSpec(runc default): ${validate.toFixed(1)} µs; JSON.parse of it: ${parse.toFixed(1)} µs; ratio ${(validate / parse).toFixed(2)}`);
