/**
 * The fault matrix: every scenario under test/faults/ injects one fault at the step where
 * it hurts most, runs the real workflow in the simulator and is judged twice:
 * - safe: the key is never pending deletion or deleted unless that was the expected end, and a key
 *   this workflow disabled is never left Disabled unless the outcome allows it (DELETION_CANCELLED)
 *   or the file names why (`expect.safe`);
 * - as expected: outcome, cause, final key state, notifications and the fault-specific checks of
 *   the file's `expect` block.
 * `npm run test:faults` prints the table and exits non-zero when any row is unsafe or unexpected.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { OUTCOMES, type Outcome } from '../../lambdas/domain/types.js';
import type { EmulatedAccount } from './emulator/account.js';
import { KmsService } from './emulator/kms.js';
import { parseScenario, type Scenario, ScenarioError, type ScenarioKey } from './scenario.js';
import { type SimulateOptions, simulate } from './simulate.js';

/** Where the matrix lives, relative to the repository root. */
export const FAULT_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'test', 'faults');

/** A fault file without a usable `matrix`/`expect` block, or whose scenario cannot run. */
export class FaultMatrixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FaultMatrixError';
  }
}

/** Ends that a file may allow, with the reason, where the default safety rule would flag them. */
export interface SafetyAllowance {
  /** Why it is right that a key this workflow disabled ends Disabled. */
  readonly leftDisabled?: string;
  /** Why it is right that the key ends pending deletion (or deleted) without DELETION_SCHEDULED. */
  readonly pendingDeletion?: string;
}

export interface FaultExpectation {
  readonly outcome: Outcome;
  /** The named cause; omitted: not checked. */
  readonly cause?: string | null;
  readonly finalState: string;
  /** Notification kinds, in order. */
  readonly notifications: readonly string[];
  /** States that must show at least one Step Functions retry (proves the fault hit and was retried). */
  readonly retried?: readonly string[];
  /** The key became usable again after the workflow disabled it (`key.restoredAt` set). */
  readonly restored?: boolean;
  /** The workflow changed nothing: no successful write call, key state and tags as before. */
  readonly untouched?: boolean;
  /** One evidence record names this principal. */
  readonly evidencePrincipal?: string;
  /** The first state whose check found breakage. */
  readonly brokeAt?: string;
  /** At least this many FilterLogEvents calls were needed (results spread over pages). */
  readonly minFilterPages?: number;
  readonly safe?: SafetyAllowance;
}

export interface FaultCase {
  readonly file: string;
  readonly name: string;
  /** Short label of the fault, for the table. */
  readonly fault: string;
  /** The step it hits. */
  readonly step: string;
  /** Set when the row shows a bug someone still has to fix: the row stays, and stays red. */
  readonly knownIssue: string | null;
  readonly expect: FaultExpectation;
  readonly scenario: Scenario;
}

export interface FaultRow {
  readonly case: FaultCase;
  readonly outcome: string;
  readonly cause: string | null;
  readonly finalState: string | null;
  /** Why the end is unsafe (empty: safe). */
  readonly unsafe: readonly string[];
  /** Where the run differs from the file's expectations (empty: as expected). */
  readonly mismatches: readonly string[];
  readonly elapsedMs: number;
}

type Json = Record<string, unknown>;

const PENDING_OR_GONE = new Set(['PendingDeletion', 'PendingReplicaDeletion', 'Deleted']);

function record(value: unknown): Json | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : null;
}

function text(value: unknown, field: string, file: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new FaultMatrixError(`${file}: ${field} must be a non-empty string`);
  }
  return value;
}

function strings(value: unknown, field: string, file: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new FaultMatrixError(`${file}: ${field} must be a list of strings`);
  }
  return value as string[];
}

function parseExpectation(raw: unknown, file: string): FaultExpectation {
  const expect = record(raw);
  if (!expect) {
    throw new FaultMatrixError(
      `${file}: "expect" must be an object with outcome, finalState and notifications`,
    );
  }
  const outcome = expect.outcome;
  if (!OUTCOMES.includes(outcome as Outcome)) {
    throw new FaultMatrixError(`${file}: expect.outcome must be one of ${OUTCOMES.join(', ')}`);
  }
  const safe = expect.safe === undefined ? undefined : record(expect.safe);
  if (safe === null) {
    throw new FaultMatrixError(`${file}: expect.safe must be an object ({ "leftDisabled": "why" })`);
  }
  return {
    outcome: outcome as Outcome,
    ...(expect.cause !== undefined
      ? { cause: expect.cause === null ? null : text(expect.cause, 'expect.cause', file) }
      : {}),
    finalState: text(expect.finalState, 'expect.finalState', file),
    notifications: strings(expect.notifications, 'expect.notifications', file),
    ...(expect.retried !== undefined ? { retried: strings(expect.retried, 'expect.retried', file) } : {}),
    ...(typeof expect.restored === 'boolean' ? { restored: expect.restored } : {}),
    ...(typeof expect.untouched === 'boolean' ? { untouched: expect.untouched } : {}),
    ...(expect.evidencePrincipal !== undefined
      ? { evidencePrincipal: text(expect.evidencePrincipal, 'expect.evidencePrincipal', file) }
      : {}),
    ...(expect.brokeAt !== undefined ? { brokeAt: text(expect.brokeAt, 'expect.brokeAt', file) } : {}),
    ...(typeof expect.minFilterPages === 'number' ? { minFilterPages: expect.minFilterPages } : {}),
    ...(safe
      ? {
          safe: {
            ...(safe.leftDisabled !== undefined
              ? { leftDisabled: text(safe.leftDisabled, 'expect.safe.leftDisabled', file) }
              : {}),
            ...(safe.pendingDeletion !== undefined
              ? { pendingDeletion: text(safe.pendingDeletion, 'expect.safe.pendingDeletion', file) }
              : {}),
          },
        }
      : {}),
  };
}

/**
 * Reads one fault file: a scenario plus `matrix` ({ fault, step }), `expect` and optionally
 * `knownIssue`. Those three are the matrix's own and are taken off before the rest is parsed as a
 * scenario, which refuses any field it does not know.
 * @throws FaultMatrixError naming the file and the field.
 */
export function loadFaultCase(path: string): FaultCase {
  const file = basename(path);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new FaultMatrixError(`${file}: cannot read it as JSON (${(error as Error).message})`);
  }
  const raw = record(data);
  const matrix = record(raw?.matrix);
  if (!raw || !matrix) {
    throw new FaultMatrixError(`${file}: "matrix" must be an object with "fault" and "step"`);
  }
  const { matrix: _matrix, expect: _expect, knownIssue: _knownIssue, ...scenarioData } = raw;
  let scenario: Scenario;
  try {
    scenario = parseScenario(scenarioData);
  } catch (error) {
    if (error instanceof ScenarioError) {
      throw new FaultMatrixError(`${file}: ${error.message}`);
    }
    throw error;
  }
  return {
    file,
    name: scenario.name,
    fault: text(matrix.fault, 'matrix.fault', file),
    step: text(matrix.step, 'matrix.step', file),
    knownIssue: raw.knownIssue === undefined ? null : text(raw.knownIssue, 'knownIssue', file),
    expect: parseExpectation(raw.expect, file),
    scenario,
  };
}

/** Every fault file of `dir`, in file-name order. */
export function loadFaultMatrix(dir: string = FAULT_DIR): FaultCase[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => loadFaultCase(join(dir, name)));
}

/** The key the execution is about: named by the input, else the only key. */
function subjectKey(scenario: Scenario): ScenarioKey | undefined {
  const input = record(scenario.input);
  const keyId = typeof input?.keyId === 'string' ? input.keyId : null;
  if (keyId !== null) {
    const named = scenario.keys.find((key) => keyId === key.keyId || keyId.endsWith(`/${key.keyId}`));
    if (named) {
      return named;
    }
  }
  return scenario.keys.length === 1 ? scenario.keys[0] : undefined;
}

interface AccountFacts {
  readonly disabledByWorkflow: boolean;
  readonly scheduledByWorkflow: boolean;
  readonly workflowWrites: readonly string[];
  readonly tags: Readonly<Record<string, string>> | null;
  readonly state: string | null;
  readonly faultsFired: number;
  readonly filterLogEventsCalls: number;
}

function factsOf(account: EmulatedAccount, key: ScenarioKey | undefined): AccountFacts {
  const snapshot = key ? account.inspectKey(key.keyId) : undefined;
  const onKey = (resources: readonly { ARN?: string }[] | undefined) =>
    snapshot !== undefined && resources?.some((r) => r.ARN === snapshot.arn) === true;
  const writes = account
    .records()
    .filter(
      (e) =>
        e.workflow &&
        e.record.errorCode === undefined &&
        KmsService.writes(e.record.eventName) &&
        onKey(e.record.resources),
    )
    .map((e) => e.record.eventName);
  const stats = account.stats();
  return {
    disabledByWorkflow: writes.includes('DisableKey'),
    scheduledByWorkflow: writes.includes('ScheduleKeyDeletion'),
    workflowWrites: writes,
    tags: snapshot?.tags ?? null,
    state: snapshot?.state ?? null,
    faultsFired: stats.faultsFired,
    filterLogEventsCalls: stats.filterLogEventsCalls,
  };
}

function sameTags(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

type Report = Awaited<ReturnType<typeof simulate>>;

/** The safety rule, independent of what the file expects except its named allowances. */
export function unsafeReasons(
  report: Pick<Report, 'outcome' | 'key'>,
  expect: FaultExpectation,
  facts: Pick<AccountFacts, 'disabledByWorkflow' | 'scheduledByWorkflow'>,
  initialState: string,
): string[] {
  const reasons: string[] = [];
  const state = report.key.finalState ?? 'unknown';
  if (report.outcome !== expect.outcome) {
    reasons.push(`ended ${report.outcome}, not ${expect.outcome}`);
  }
  const deletionExpected =
    report.outcome === 'DELETION_SCHEDULED' &&
    expect.outcome === 'DELETION_SCHEDULED' &&
    facts.scheduledByWorkflow;
  if (PENDING_OR_GONE.has(state) && !deletionExpected && !expect.safe?.pendingDeletion) {
    reasons.push(`key ended ${state} without an approved, watched deletion`);
  }
  if (
    state === 'Disabled' &&
    facts.disabledByWorkflow &&
    initialState === 'Enabled' &&
    report.outcome !== 'DELETION_CANCELLED' &&
    !expect.safe?.leftDisabled
  ) {
    reasons.push('the workflow disabled the key and left it Disabled');
  }
  return reasons;
}

function expectationMismatches(
  c: FaultCase,
  report: Report,
  facts: AccountFacts,
  key: ScenarioKey | undefined,
): string[] {
  const { expect } = c;
  const problems: string[] = [];
  const show = (value: unknown) => JSON.stringify(value);
  if (expect.cause !== undefined && report.cause !== expect.cause) {
    problems.push(`cause ${show(report.cause)}, expected ${show(expect.cause)}`);
  }
  if (report.key.finalState !== expect.finalState) {
    problems.push(`key state ${show(report.key.finalState)}, expected ${show(expect.finalState)}`);
  }
  const kinds = report.notifications.map((n) => n.kind);
  if (show(kinds) !== show(expect.notifications)) {
    problems.push(`notifications ${show(kinds)}, expected ${show(expect.notifications)}`);
  }
  for (const state of expect.retried ?? []) {
    const retried = report.timeline.some((t) => t.state === state && Number(t.detail.retries ?? 0) > 0);
    if (!retried) {
      problems.push(`${state} shows no retry`);
    }
  }
  if (expect.restored !== undefined && (report.key.restoredAt !== null) !== expect.restored) {
    problems.push(
      expect.restored ? 'the key was never restored' : `the key was restored at ${report.key.restoredAt}`,
    );
  }
  if (expect.untouched) {
    if (facts.workflowWrites.length > 0) {
      problems.push(`the workflow changed the key (${facts.workflowWrites.join(', ')})`);
    }
    if (key && facts.tags && !sameTags(facts.tags, key.tags)) {
      problems.push(`tags changed: ${show(facts.tags)}`);
    }
    if (key && facts.state !== key.state) {
      problems.push(`state changed from ${key.state} to ${facts.state}`);
    }
  }
  if (expect.evidencePrincipal && !report.evidence.some((e) => e.principal === expect.evidencePrincipal)) {
    problems.push(`no evidence names ${expect.evidencePrincipal}`);
  }
  if (expect.brokeAt) {
    const first = report.timeline.find((t) => t.detail.broke === true);
    if (first?.state !== expect.brokeAt) {
      problems.push(`breakage found by ${first?.state ?? 'no check'}, expected ${expect.brokeAt}`);
    }
  }
  if (expect.minFilterPages !== undefined && facts.filterLogEventsCalls < expect.minFilterPages) {
    problems.push(
      `${facts.filterLogEventsCalls} FilterLogEvents calls, expected at least ${expect.minFilterPages}`,
    );
  }
  const injected = c.scenario.faults.some((f) => f.service === 'kms' || f.service === 'logs');
  if (injected && facts.faultsFired === 0) {
    problems.push('the injected fault never fired: the row proves nothing');
  }
  if (report.error) {
    problems.push(`workflow defect ${report.error.Error}: ${report.error.Cause.slice(0, 160)}`);
  }
  return problems;
}

/** Runs one fault case and judges it. */
export async function runFaultCase(
  c: FaultCase,
  options: Pick<SimulateOptions, 'verbose'> = {},
): Promise<FaultRow> {
  const key = subjectKey(c.scenario);
  let facts: AccountFacts | undefined;
  const began = Date.now();
  const report = await simulate(c.scenario, {
    ...options,
    executionName: basename(c.file, '.json'),
    inspect: (account) => {
      facts = factsOf(account, key);
    },
  });
  const elapsedMs = Date.now() - began;
  if (!facts) {
    throw new FaultMatrixError(`${c.file}: the simulation ended without showing its account`);
  }
  return {
    case: c,
    outcome: report.outcome,
    cause: report.cause,
    finalState: report.key.finalState,
    unsafe: unsafeReasons(report, c.expect, facts, key?.state ?? 'Enabled'),
    mismatches: expectationMismatches(c, report, facts, key),
    elapsedMs,
  };
}

/** A row passes when it is safe and as expected. */
export function rowPasses(row: FaultRow): boolean {
  return row.unsafe.length === 0 && row.mismatches.length === 0;
}

function cell(value: string): string {
  return value.replaceAll('|', '\\|');
}

/** The matrix as a Markdown table (fault, step, outcome, key state, safe?), then every problem. */
export function renderFaultTable(rows: readonly FaultRow[]): string {
  const lines = [
    '| fault | step | outcome | key state | safe? |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map((row) => {
      const outcome = row.cause && row.cause !== row.outcome ? `${row.outcome} (${row.cause})` : row.outcome;
      const safe =
        row.unsafe.length > 0
          ? 'UNSAFE'
          : row.mismatches.length > 0
            ? 'safe, unexpected'
            : row.case.expect.safe
              ? 'yes (see note)'
              : 'yes';
      const marked = row.case.knownIssue ? `${safe} [known issue]` : safe;
      return `| ${cell(row.case.fault)} | ${cell(row.case.step)} | ${outcome} | ${row.finalState ?? 'unknown'} | ${marked} |`;
    }),
  ];
  const notes = rows.flatMap((row) => {
    const allowance = row.case.expect.safe;
    const why = [allowance?.leftDisabled, allowance?.pendingDeletion].filter((s): s is string => Boolean(s));
    return rowPasses(row) && why.length > 0 ? [`- ${row.case.file}: ${why.join('; ')}`] : [];
  });
  const problems = rows.flatMap((row) => [
    ...row.unsafe.map((p) => `- ${row.case.file}: UNSAFE: ${p}`),
    ...row.mismatches.map((p) => `- ${row.case.file}: ${p}`),
    ...(row.case.knownIssue ? [`- ${row.case.file}: known issue: ${row.case.knownIssue}`] : []),
  ]);
  return [
    ...lines,
    ...(notes.length > 0 ? ['', 'Notes:', ...notes] : []),
    ...(problems.length > 0 ? ['', 'Problems:', ...problems] : []),
  ].join('\n');
}

/** `npm run test:faults [file ...] [--json]`: 0 when every row is safe and as expected, else 1. */
export async function main(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  const files = argv.filter((a) => !a.startsWith('--'));
  let cases: FaultCase[];
  try {
    cases = files.length > 0 ? files.map((f) => loadFaultCase(resolve(f))) : loadFaultMatrix();
  } catch (error) {
    process.stderr.write(`fault matrix: ${(error as Error).message}\n`);
    return 2;
  }
  const rows: FaultRow[] = [];
  for (const c of cases) {
    rows.push(await runFaultCase(c));
  }
  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        rows.map((r) => ({
          file: r.case.file,
          fault: r.case.fault,
          step: r.case.step,
          outcome: r.outcome,
          cause: r.cause,
          finalState: r.finalState,
          safe: r.unsafe.length === 0,
          asExpected: r.mismatches.length === 0,
          unsafe: r.unsafe,
          mismatches: r.mismatches,
          knownIssue: r.case.knownIssue,
          elapsedMs: r.elapsedMs,
        })),
        null,
        2,
      )}\n`,
    );
  } else {
    process.stdout.write(`${renderFaultTable(rows)}\n`);
  }
  const failed = rows.filter((r) => !rowPasses(r)).length;
  process.stderr.write(
    `fault matrix: ${rows.length} rows, ${rows.filter((r) => r.unsafe.length > 0).length} unsafe, ${failed} failing\n`,
  );
  return failed > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
