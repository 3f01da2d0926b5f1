import { readFileSync } from 'node:fs';
import { simulate } from './lib/simulator/simulate.ts';
for (const file of process.argv.slice(2)) {
  const raw = JSON.parse(readFileSync(file, 'utf8'));
  delete raw.matrix; const expect = raw.expect; delete raw.expect; delete raw.knownIssue;
  const t = Date.now();
  let tags;
  const r = await simulate(raw, { inspect: (a) => { const k = raw.keys[0]; tags = a.inspectKey(k.keyId)?.tags; } });
  console.log(file, Date.now() - t, 'ms', r.outcome, r.key.finalState, JSON.stringify(r.notifications.map((n) => n.kind)), expect ? `expected ${expect.outcome} ${expect.finalState}` : '');
  if (process.env.V) { console.log(JSON.stringify(r.timeline.slice(-8), null, 1)); console.log(tags); }
}
