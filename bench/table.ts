/** The tables `npm run bench` prints (Markdown, so a run can go into the README as it is). */
import type { FleetFigures, FleetRow } from './fleet.js';
import {
  type BenchReport,
  BUNDLE_BYTES_TARGET,
  COLD_IMPORT_MS_TARGET,
  KEYS_PER_SECOND_TARGET,
  SCAN_RATIO_TARGET,
  TRANSITIONS_TARGET,
} from './run.js';
import type { SweepRow } from './sweep-fleet.js';

type Row = readonly [figure: string, measured: string, baseline: string, target: string, met: string];

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const kib = (bytes: number) => `${fixed(bytes / 1024, 0)} KiB`;
const yes = (met: boolean) => (met ? 'yes' : '**no**');

export function formatTable(report: BenchReport): string {
  const { scan, cost, latency } = report;
  const bound = latency.checkIntervalHours * 60 + latency.ingestionLagMinutes;
  const rows: Row[] = [
    [
      `1. Log events read / events in window (${scan.observationDays} d, ${scan.checkIntervalHours} h checks, ${int(scan.backgroundRecords)} background)`,
      fixed(report.scanRatio, 2),
      `${fixed(report.baselineScanRatio, 1)} (re-scan from disable time)`,
      `<= ${SCAN_RATIO_TARGET}`,
      yes(report.scanRatio <= SCAN_RATIO_TARGET),
    ],
    [
      '   events scanned / returned / FilterLogEvents calls',
      `${int(scan.scanned)} / ${int(scan.returned)} / ${int(scan.filterLogEventsCalls)}`,
      `${int(scan.baselineScanned)} / ${int(scan.baselineReturned)} / ${int(scan.baselineFilterLogEventsCalls)}`,
      `in window: ${int(scan.eventsInWindow)}`,
      '',
    ],
    [
      '   of them FinalCheck re-searching the whole hold (late records)',
      int(scan.finalRescanScanned),
      `${fixed(scan.incrementalScanRatio, 2)} if FinalCheck searched incrementally (late records unseen)`,
      '',
      '',
    ],
    [
      `   pending window (${scan.pending.pendingWindowInDays} d, ${scan.pending.checks} checks, each re-searching the whole hold): read / in window`,
      `${fixed(scan.pending.scanRatio, 1)} (${int(scan.pending.scanned)} / ${int(scan.pending.eventsInWindow)})`,
      `${fixed(scan.pending.incrementalScanRatio, 2)} (${int(scan.pending.incrementalScanned)}) searching incrementally`,
      '',
      '',
    ],
    [
      `2. State transitions per key (${cost.checkIntervalHours} h checks, ${cost.checks} checks)`,
      int(report.transitionsPerKey),
      `${int(cost.transitionsFloor)} (a Wait + Task loop in the state machine)`,
      `<= ${TRANSITIONS_TARGET}`,
      yes(report.transitionsPerKey <= TRANSITIONS_TARGET),
    ],
    [
      '   Lambda invocations per key',
      int(report.lambdaInvocationsPerKey),
      `${int(cost.scheduledInvocationsPerKey)} of them by EventBridge Scheduler`,
      '',
      '',
    ],
    [
      '   Lambda GB-s per key (estimated)',
      fixed(report.lambdaGbSecondsPerKey, 2),
      'memory x (cold import + 30 ms per API call)',
      '',
      '',
    ],
    [
      '   KMS requests per key (canary)',
      `${int(cost.workflowKmsRequests)} (${int(cost.canaryKmsRequests)})`,
      `Logs requests: ${int(cost.workflowLogsRequests)}; all API requests: ${int(Object.values(cost.apiRequestsPerKey).reduce((a, b) => a + b, 0))}`,
      '',
      '',
    ],
    [
      '   Cost per key, USD (list prices)',
      `$${fixed(report.costPerKeyUsd, 4)}`,
      `SFN $${fixed(cost.usd.transitions, 4)}, Lambda $${fixed(cost.usd.lambdaRequests + cost.usd.lambdaDuration, 4)}, KMS $${fixed(cost.usd.kmsRequests, 4)}, Scheduler $${fixed(cost.usd.schedulerInvocations, 4)}, Logs $0`,
      '',
      '',
    ],
    [
      `3. Detection latency p50 / max, minutes (polling, ${latency.placements} placements)`,
      `${fixed(report.detectionLatencyMinutes.p50, 0)} / ${fixed(report.detectionLatencyMinutes.max, 0)}`,
      report.fastPathLatencyMinutes
        ? `fast path: ${fixed(report.fastPathLatencyMinutes.p50, 0)} / ${fixed(report.fastPathLatencyMinutes.max, 0)}`
        : 'no fast path in the template',
      `max <= ${bound}`,
      yes(report.detectionLatencyMinutes.max <= bound),
    ],
  ];
  for (const bundle of report.bundles) {
    const met = bundle.bytes <= BUNDLE_BYTES_TARGET && bundle.coldImportMs <= COLD_IMPORT_MS_TARGET;
    rows.push([
      `4. Bundle ${bundle.name}: size, cold import (median of ${report.options.coldRuns})`,
      `${kib(bundle.bytes)}, ${fixed(bundle.coldImportMs, 0)} ms`,
      `${kib(bundle.baselineBytes)}, ${fixed(bundle.baselineColdImportMs, 0)} ms (NodejsFunction defaults)`,
      `<= ${kib(BUNDLE_BYTES_TARGET)}, <= ${COLD_IMPORT_MS_TARGET} ms`,
      yes(met),
    ]);
  }
  const rates = Object.entries(report.simulatorKeysPerSecond);
  const single = report.simulatorKeysPerSecond['1'] ?? Number.NaN;
  for (const [keys, rate] of rates) {
    rows.push([
      `5. Simulator: quiet keys per second, ${keys === '1' ? '1 key' : `${int(Number(keys))} keys on ${report.simulatorWorkers} worker threads`}`,
      fixed(rate, 2),
      keys === '1' ? '' : `${fixed(single, 2)} (1 key)`,
      `>= ${KEYS_PER_SECOND_TARGET}`,
      yes(rate >= KEYS_PER_SECOND_TARGET),
    ]);
  }
  rows.push([
    '6. Synth of the app, seconds (in-process, with bundling)',
    fixed(report.synthSeconds, 1),
    `${fixed(report.synthNoBundlingSeconds, 1)} without bundling (+${fixed(report.cdkLoadSeconds, 1)} loading aws-cdk-lib once)`,
    '',
    '',
  ]);

  const { unguarded } = report;
  const unguardedTarget = report.targets.find((t) => t.figure === 'unguardedMinutesBeforeDeletion');
  rows.push([
    `7. Unguarded minutes before the deletion date (${unguarded.fastPath ? `fast path, EventBridge lag ${unguarded.eventBridgeLagMinutes} min` : 'polling watch'})`,
    int(report.unguardedMinutesBeforeDeletion),
    `polling alone: ${int(report.unguardedMinutesPollingOnly)} (delivery lag ${unguarded.deliveryLagMinutes} + last check ${unguarded.lastCheckLeadMinutes} min before)`,
    unguardedTarget?.target ?? '',
    unguardedTarget ? yes(unguardedTarget.met) : '',
  ]);

  const header: Row = ['Figure', 'Measured', 'Baseline (same run)', 'Target', 'Met'];
  return [
    markdown(header, rows),
    '',
    ...(report.fleet && report.fleetTargets && report.fleetDetails
      ? [formatFleet({ ...report.fleetDetails, rows: report.fleet, targets: report.fleetTargets }), '']
      : []),
    `Run ${report.date.slice(0, 10)} on Node ${report.node}, ${fixed(report.benchSeconds, 0)} s in all.`,
  ].join('\n');
}

function markdown(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (row: readonly string[]) => `| ${row.join(' | ')} |`;
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

const power = (n: number) => {
  const exponent = Math.log10(n);
  return Number.isInteger(exponent) ? `10^${exponent}` : int(n);
};

/** Three significant digits, thousands separated: figures that span eight orders of magnitude. */
const sig = (n: number) =>
  !Number.isFinite(n)
    ? 'n/a'
    : Math.abs(n) >= 1000
      ? int(Number(n.toPrecision(3)))
      : Number(n.toPrecision(3)).toLocaleString('en-US', { maximumFractionDigits: 4 });

const measuredByText = (by: FleetRow['measuredBy'] | SweepRow['measuredBy']) =>
  by === 'simulated'
    ? 'simulated'
    : 'hours' in by
      ? `simulated ${by.hours} h, x ${fixed(24 / by.hours, 0)}`
      : `page counts from ${power(by.pageCountsFrom)}`;

/** The per-key design's table (each held key's checks search on their own), kept as a comparison. */
function formatPerKeyDesign(fleet: FleetFigures): string {
  const header = [
    'Keys held',
    'Records/day',
    'Search requests/day',
    'Search invocations/day',
    'Events scanned/day',
    'Scanned / ingested',
    `Peak search TPS (quota ${fleet.searchQuotaTps})`,
    'Longest search in one invocation, s',
    'Invocations of the longest check search (limit)',
    'Cost per key-month',
    'Measured',
  ];
  const rows = fleet.perKeyDesign.rows.map((row) => [
    int(row.keys),
    power(row.eventsPerDay),
    sig(row.logSearchRequestsPerDay),
    sig(row.searchInvocationsPerDay),
    sig(row.eventsScannedPerDay),
    sig(row.eventsScannedPerDay / row.eventsIngestedPerDay),
    sig(row.peakLogSearchTps),
    sig(row.maxSearchSecondsPerInvocation),
    `${int(row.maxInvocationsPerCheckSearch)} (${int(row.checkSearchInvocationLimit)})`,
    `$${fixed(row.costPerKeyMonthUsd, 4)}`,
    measuredByText(row.measuredBy),
  ]);
  return [
    `Comparison, the per-key design (no sweep: every held key's checks search on their own): one quiet key, ${fleet.observationDays}-day observation, ${fleet.checkIntervalHours} h checks, ${fleet.pendingWindowInDays}-day pending window watched; N keys = N times its work; peak = N searches at once, one page per ${fleet.pageLatencyMs} ms each.`,
    '',
    markdown(header, rows),
  ].join('\n');
}

/**
 * The fleet table: keys held at once x records a day with the sweep (the real handler in one
 * emulated account), the targets beside it, what the rows show, and the per-key design's rows.
 */
export function formatFleet(fleet: FleetFigures): string {
  const { sweep } = fleet;
  const header = [
    'Keys held',
    'Records/day',
    'Search requests/day',
    'Events scanned/day',
    'Events ingested/day',
    'Scanned / ingested',
    `Peak search TPS (quota ${fleet.searchQuotaTps})`,
    'Longest search in one invocation, s',
    'Sweeps/day (invocations each)',
    'Search invocations/day',
    'Events returned/day',
    'Sightings age max, min',
    'Cost per key-month',
    'Measured',
    'Sweep with canaries',
  ];
  const rows = fleet.rows.map((row) => [
    int(row.keys),
    power(row.eventsPerDay),
    sig(row.logSearchRequestsPerDay),
    sig(row.eventsScannedPerDay),
    sig(row.eventsIngestedPerDay),
    sig(row.eventsScannedPerDay / row.eventsIngestedPerDay),
    sig(row.peakLogSearchTps),
    sig(row.maxSearchSecondsPerInvocation),
    `${sig(row.sweepsPerDay)} (${int(row.invocationsPerSweep)})`,
    sig(row.searchInvocationsPerDay),
    sig(row.eventsReturnedPerDay),
    Number.isFinite(row.maxSightingsAgeMinutes) ? int(row.maxSightingsAgeMinutes) : 'never fresh',
    `$${fixed(row.costPerKeyMonthUsd, 4)}`,
    measuredByText(row.measuredBy),
    row.sweepError === null
      ? row.correctness
        ? `ok: ${int(row.correctness.sightingsWritten)} sightings fresh, ${row.correctness.failuresSighted}/${row.correctness.failures} failures`
        : 'ok'
      : `**fails** (${row.sweepError.includes('SearchCarryTooLargeError') ? 'SearchCarryTooLargeError; figures without canaries' : 'never completes'})`,
  ]);
  const targets = fleet.targets.map((t) => [t.figure, sig(t.measured), t.target, yes(t.met)]);
  const peakRow = fleet.rows.find((r) => r.keys === 1000 && r.eventsPerDay === 1_000_000);
  const span = fleet.rows.find((r) => r.correctness !== null);
  const notes: string[] = [];
  if (peakRow && peakRow.peakLogSearchTps > fleet.searchQuotaTps / 2) {
    notes.push(
      `- Peak: the sweep asks its pages back to back, one each ${fleet.pageLatencyMs} ms (${fixed(1000 / fleet.pageLatencyMs, 2)} requests/s, ${int(peakRow.peakLogSearchTps)} in one second), over half the quota of ${fleet.searchQuotaTps}; it does not grow with the keys. Pacing the pages to one each ${Math.ceil(1000 / (fleet.searchQuotaTps / 2) / 100) * 100} ms would hold ${fleet.searchQuotaTps / 2}/s.`,
    );
  }
  if (span) {
    notes.push(
      `- Scanned / ingested: every sweep reads the whole span of the oldest hold again (${sweep.holdSpanDays} days + the ingestion lag), which is how it finds records delivered late: about span / interval = ${fixed((sweep.holdSpanDays * 86_400) / sweep.intervalSeconds, 0)} times what the group takes in, whatever the keys.`,
    );
  }
  const carry = fleet.rows.find((r) => r.sweepError?.includes('SearchCarryTooLargeError'));
  if (carry?.sweepError) {
    notes.push(`- Sweep failures with the canaries in the log group: ${carry.sweepError}`);
  }
  const never = fleet.rows.find(
    (r) => r.sweepError !== null && !r.sweepError.includes('SearchCarryTooLargeError'),
  );
  if (never?.sweepError) {
    notes.push(`- At ${power(never.eventsPerDay)}: ${never.sweepError}.`);
  }
  return [
    `Fleet with the sweep: the real sweep handler every ${sweep.sweepRateMinutes} minutes in one emulated account holding N keys at once (disabled over the last ${sweep.holdSpanDays} days, each with a canary every ${fleet.checkIntervalHours} h and a few with real failures), a new sweep ${sweep.intervalSeconds} s after the last, ${fleet.pageLatencyMs} ms a page, ${int(fleet.pageSize)} events a page, the quota of ${fleet.searchQuotaTps} requests/s enforced, 300 s timeout in virtual time; each cell run ${sweep.busyHours} h (two whole sweep cycles) and scaled to the day (every hour alike), volumes above the largest run by page counts. Cost per key: the checks' own work without searches plus the key's share of the sweep (Lambda at ${sweep.memoryMb} MB, DynamoDB sightings writes, the registry Scan, the checks' reads).`,
    '',
    markdown(header, rows),
    '',
    ...notes,
    ...(notes.length > 0 ? [''] : []),
    markdown(['Fleet target', 'Measured', 'Target', 'Met'], targets),
    '',
    formatPerKeyDesign(fleet),
  ].join('\n');
}
