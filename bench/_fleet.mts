import { measureFleet } from './fleet.js';
import { formatFleet } from './table.js';

const max = Number(process.argv[2] ?? 1_000_000);
const handlers = new Map(
  [
    'assess',
    'check',
    'disable',
    'schedule-deletion',
    'restore',
    'fast-path',
    'request-approval',
    'approval',
    'inventory',
    'sweep',
    'deliveries',
    'delivery-proof',
    'alarm-relay',
  ].map((h) => [h, { memoryMb: h === 'check' ? 512 : 256, coldImportMs: 0 }]),
);
const t0 = performance.now();
const log = (l: string) => process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s ${l}\n`);
const fleet = await measureFleet({
  observationDays: Number(process.argv[3] ?? 2),
  maxSimulatedPerDay: max,
  searchSweepMaxPerDay: 10_000,
  searchSweepKeys: [10, 100],
  handlers,
  log,
});
log('done');
console.log(formatFleet(fleet));
const { writeFileSync } = await import('node:fs');
writeFileSync(`/tmp/sb/fleet-${max}.json`, JSON.stringify(fleet, null, 1));
