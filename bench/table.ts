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
import type { StreamRow } from './stream-fleet.js';
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

/** The search sweep's table (one search of the log group an interval for every held key), kept as a comparison. */
function formatSearchSweep(fleet: FleetFigures): string {
  const { settings: sweep, rows: sweepRows, targets: sweepTargets } = fleet.searchSweep;
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
  const rows = sweepRows.map((row) => [
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
  const targets = sweepTargets.map((t) => [t.figure, sig(t.measured), t.target, yes(t.met)]);
  const most = Math.max(...sweepRows.map((r) => r.keys));
  const peakRow = sweepRows.find((r) => r.keys === most && r.eventsPerDay === 1_000_000);
  const span = sweepRows.find((r) => r.correctness !== null);
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
  const carry = sweepRows.find((r) => r.sweepError?.includes('SearchCarryTooLargeError'));
  if (carry?.sweepError) {
    notes.push(`- Sweep failures with the canaries in the log group: ${carry.sweepError}`);
  }
  const never = sweepRows.find(
    (r) => r.sweepError !== null && !r.sweepError.includes('SearchCarryTooLargeError'),
  );
  if (never?.sweepError) {
    notes.push(`- At ${power(never.eventsPerDay)}: ${never.sweepError}.`);
  }
  return [
    `Comparison, the search sweep (\`sweep: true\` alone: one search of the log group an interval for every held key), at ${[...new Set(sweepRows.map((r) => int(r.keys)))].join(', ')} keys: the real sweep handler every ${sweep.sweepRateMinutes} minutes in one emulated account holding N keys at once (disabled over the last ${sweep.holdSpanDays} days, each with a canary every ${fleet.checkIntervalHours} h and a few with real failures), a new sweep ${sweep.intervalSeconds} s after the last, ${fleet.pageLatencyMs} ms a page, ${int(fleet.pageSize)} events a page, the quota of ${fleet.searchQuotaTps} requests/s enforced, 300 s timeout in virtual time; each cell run ${sweep.busyHours} h (two whole sweep cycles) and scaled to the day (every hour alike), volumes above the largest run by page counts. Cost per key: the checks' own work without searches plus the key's share of the sweep (Lambda at ${sweep.memoryMb} MB, DynamoDB sightings writes, the registry Scan, the checks' reads).`,
    '',
    markdown(header, rows),
    '',
    ...notes,
    ...(notes.length > 0 ? [''] : []),
    markdown(['Search sweep target', 'Measured', 'Target', 'Met'], targets),
  ].join('\n');
}

const streamMeasuredBy = (by: StreamRow['measuredBy']) =>
  'hours' in by
    ? `simulated ${by.hours} h, x ${fixed(24 / by.hours, 0)}`
    : `derived: ${int(by.derivedFrom.keys)} keys at ${power(by.derivedFrom.eventsPerDay)} + ${int(by.volumeFrom.keys)} keys at ${power(by.volumeFrom.eventsPerDay)}`;

/**
 * The fleet table: keys held at once x records a day with the subscription source (the real
 * Deliveries and DeliveryProof handlers in one emulated account), its targets, what the rows show,
 * then the search sweep's and the per-key design's tables as comparisons.
 */
export function formatFleet(fleet: FleetFigures): string {
  const { subscription } = fleet;
  const header = [
    'Keys held',
    'Records/day',
    'Log search requests/day (FilterLogEvents / DescribeSubscriptionFilters / GetMetricData)',
    'Events scanned/day',
    'Events ingested/day',
    'Scanned / ingested',
    `Peak search TPS (quota ${fleet.searchQuotaTps})`,
    'Longest invocation, s',
    'Deliveries/day (events delivered)',
    'Proofs/day',
    'DynamoDB read / write units a day',
    'Cost per key-month',
    'Measured',
    "The checks' view at the day's end",
  ];
  const rows = fleet.rows.map((row) => {
    const c = row.correctness;
    return [
      int(row.keys),
      power(row.eventsPerDay),
      `${sig(row.logSearchRequestsPerDay)} (${sig(row.filterLogEventsPerDay)} / ${sig(row.describeSubscriptionFiltersPerDay)} / ${sig(row.getMetricDataPerDay)})`,
      sig(row.eventsScannedPerDay),
      sig(row.eventsIngestedPerDay),
      sig(row.eventsScannedPerDay / row.eventsIngestedPerDay),
      sig(row.peakLogSearchTps),
      sig(row.maxSearchSecondsPerInvocation),
      `${sig(row.deliveries.invocations)} (${sig(row.eventsDeliveredPerDay)})`,
      sig(row.proof.invocations),
      `${sig(row.deliveriesTable.readUnits + row.proofTable.readUnits)} / ${sig(row.deliveriesTable.writeUnits + row.proofTable.writeUnits)}`,
      `$${fixed(row.costPerKeyMonthUsd, 4)}`,
      streamMeasuredBy(row.measuredBy),
      c
        ? `ok: proof ${int(c.proofAgeMinutes)} min old (<= ${int(c.proofMaxAgeMinutes)}), ${int(c.holdsCovered)}/${int(c.holds)} holds covered, ${c.failuresSighted}/${c.failures} failures, ${int(c.canariesSighted)}/${int(c.canariesDue)} latest canaries`
        : row.failedInvocations > 0
          ? `**${row.failedInvocations} failed**`
          : '(derived)',
    ];
  });
  const targets = fleet.targets.map((t) => [t.figure, sig(t.measured), t.target, yes(t.met)]);
  const memory = (pick: (row: StreamRow) => number) => int(fleet.rows[0] ? pick(fleet.rows[0]) : Number.NaN);
  const notes: string[] = [];
  const most = Math.max(...fleet.rows.map((r) => r.keys));
  const busiest = fleet.rows
    .filter((r) => r.keys === most)
    .reduce<StreamRow | undefined>(
      (top, r) => (!top || r.eventsPerDay > top.eventsPerDay ? r : top),
      undefined,
    );
  const scanning = busiest?.deliveriesTable.scanningInvocations ?? 0;
  if (busiest && scanning > 0) {
    const table = busiest.deliveriesTable;
    notes.push(
      `- Where it breaks next: a delivery holding a record that names its key only by an alias Scans the whole registry, sightings included (a page per MB). At ${int(most)} keys and ${power(busiest.eventsPerDay)} that is ${sig(scanning)} deliveries a day that Scan, ${sig((table.requests.Scan ?? 0) / scanning)} pages and ${sig((table.units.Scan ?? 0) / scanning)} read units each (${sig(table.readUnits)} a day), and the longest delivery took ${fixed(busiest.deliveries.maxWallMs / 1000, 1)} s here. The deliveries' reads and time grow with keys x deliveries: the Deliveries function's ${int(busiest.deliveries.timeoutSeconds)} s timeout is what a larger registry or a busier trail meets first (about ${sig((busiest.deliveries.timeoutSeconds * 1000) / Math.max(1, (table.wallMs.Scan ?? 0) / scanning))} times this registry's Scan time).`,
    );
  }
  notes.push(
    `- The proof's requests (one DescribeSubscriptionFilters and one GetMetricData of ${sig((fleet.rows[0]?.metricsRequestedPerDay ?? Number.NaN) / (fleet.rows[0]?.getMetricDataPerDay ?? Number.NaN))} metrics every ${subscription.proofRateMinutes} minutes) depend on neither the keys nor the volume; the subscription's batches follow the trail's failed KMS calls (at 10^8 about ${sig(fleet.rows.find((r) => r.eventsPerDay === 100_000_000)?.deliveries.invocations ?? Number.NaN)} deliveries a day, 10,000 events or 1 MiB a batch at most).`,
  );
  return [
    `Fleet, the subscription source (\`sweep: true, sweepSubscription: true\`; the targets are held against it): the real Deliveries and DeliveryProof handlers in one emulated account holding N keys at once (disabled over the last ${subscription.holdSpanDays} days, each with a canary every ${fleet.checkIntervalHours} h, about five with real failures, half before the day and half during it), the template's subscription filter forwarding every failed KMS call as the simulator's CloudWatch Logs does (a batch a minute after its minute, 10,000 events or 1 MiB at most, through Lambda's asynchronous queue), the proof every ${subscription.proofRateMinutes} minutes by the template's rule; each cell run ${subscription.busyHours} h and scaled to the day (every hour alike). The fewest keys run every volume; more keys run for real while keys x records a day stay within ${sig(subscription.maxKeyRecordsPerDay)}, the others are derived (the fewest keys' cell at that volume plus what the larger registry added per delivery that Scans it at the base volume; checked against a run: within 1 % in read units and cost, its time erring high). Log search requests: FilterLogEvents + DescribeSubscriptionFilters + GetMetricData, every request that reads the trail or what was delivered of it. Events scanned: the events ingested (CloudWatch Logs matches each once against the filter) plus those FilterLogEvents scanned (none). Peak: those requests in one virtual second, held against the FilterLogEvents quota (${fleet.searchQuotaTps}/s), the tightest of the three. Longest invocation: of either function, wall-clock in this process on the emulated services (neither searches, so neither spends virtual time). Cost per key: Lambda requests and GB-s of both functions (that wall time at the template's ${memory((r) => r.deliveries.memoryMb)} MB and ${memory((r) => r.proof.memoryMb)} MB), GetMetricData at $0.01 per 1,000 metrics, the DynamoDB capacity units dynalite reported (on-demand), each check's reads of the proof and its sightings, and the checks' own work without searches.`,
    '',
    markdown(header, rows),
    '',
    ...notes,
    '',
    markdown(['Fleet target', 'Measured', 'Target', 'Met'], targets),
    '',
    formatSearchSweep(fleet),
    '',
    formatPerKeyDesign(fleet),
  ].join('\n');
}
