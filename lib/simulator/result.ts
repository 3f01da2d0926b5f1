/**
 * The simulation result: exactly the contract of `contracts/simulation-result.schema.json`
 * (what `simulate --json` prints), built from an engine run and the emulated key's fate.
 */
import { OUTCOMES, type Outcome } from '../../lambdas/domain/types.js';
import type { EngineRun, ExecutionStatus } from './engine.js';

export type FinalKeyState = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingReplicaDeletion' | 'Deleted';

/** The timeline's name for an invocation by a scheduled EventBridge rule (lib/simulator/scheduled-rules.ts). */
export const SCHEDULED_RULE_STATE = 'ScheduledRule';
/** The timeline's name for a subscription's deliveries and the invocations they start (lib/simulator/subscriptions.ts). */
export const SUBSCRIPTION_STATE = 'Subscription';

export interface ResultTimelineEntry {
  readonly at: string;
  readonly state: string;
  /** The handler folder of a Lambda invocation outside the state machine (a scheduled check). */
  readonly handler?: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface ResultNotification {
  readonly at: string;
  readonly kind: string;
  readonly subject: string;
  readonly step?: string;
  readonly message?: unknown;
}

export interface ResultEvidence {
  readonly eventID: string;
  readonly eventTime: string;
  readonly eventName: string;
  readonly principal: string;
  readonly sourceIPAddress?: string;
  readonly errorCode?: string;
  readonly userAgent?: string;
  readonly recipientAccountId?: string;
}

export interface SimulationResult {
  readonly name: string;
  readonly outcome: Outcome;
  /** The named reason (`EVENT_SOURCE_BLIND`, `AWS_MANAGED_KEY`, ...) of a Fail state's Cause, else null. */
  readonly cause: string | null;
  readonly executionStatus: ExecutionStatus;
  /** Set when the execution failed with an error that is not an outcome (a workflow defect). */
  readonly error?: { readonly Error: string; readonly Cause: string };
  readonly key: {
    readonly keyId: string | null;
    readonly finalState: FinalKeyState | null;
    readonly deletionDate: string | null;
    readonly restoredAt: string | null;
  };
  readonly timeline: readonly ResultTimelineEntry[];
  readonly notifications: readonly ResultNotification[];
  readonly evidence: readonly ResultEvidence[];
  readonly stats: {
    readonly stateTransitions: number;
    readonly lambdaInvocations: number;
    readonly logEventsScanned: number;
    readonly logEventsInWindow: number;
  };
}

/** What the emulated account knows about the key the execution was about. */
export interface KeyReport {
  readonly keyId: string | null;
  readonly finalState: FinalKeyState | null;
  readonly deletionDate: Date | null;
  /** First instant the key became usable again after the workflow disabled it, if the account saw one. */
  readonly restoredAt: Date | null;
}

export interface LogStats {
  readonly logEventsScanned: number;
  readonly logEventsInWindow: number;
}

const CAUSE_NAME = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

/** `"EVENT_SOURCE_BLIND: text"` -> `EVENT_SOURCE_BLIND`; a cause without such a prefix -> null. */
export function causeName(cause: string | null | undefined): string | null {
  if (!cause) {
    return null;
  }
  const colon = cause.indexOf(':');
  if (colon <= 0) {
    return null;
  }
  const head = cause.slice(0, colon).trim();
  return CAUSE_NAME.test(head) ? head : null;
}

function isOutcome(value: unknown): value is Outcome {
  return typeof value === 'string' && (OUTCOMES as readonly string[]).includes(value);
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** A step result as the workflow stores it: either the value itself or `{ value }` (ResultSelector). */
function stepValue(data: Record<string, unknown> | null, field: string): Record<string, unknown> | null {
  const raw = record(data?.[field]);
  if (!raw) {
    return null;
  }
  return record(raw.value) ?? raw;
}

/** The CloudTrail records the workflow kept as evidence (`watch.evidence` of its final data). */
export function evidenceOf(finalData: unknown): ResultEvidence[] {
  const watch = stepValue(record(finalData), 'watch');
  const list = watch?.evidence;
  if (!Array.isArray(list)) {
    return [];
  }
  const evidence: ResultEvidence[] = [];
  for (const item of list) {
    const e = record(item);
    if (!e) continue;
    const text = (field: string) => (typeof e[field] === 'string' ? (e[field] as string) : undefined);
    evidence.push({
      eventID: text('eventID') ?? '',
      eventTime: text('eventTime') ?? '',
      eventName: text('eventName') ?? '',
      principal: text('principal') ?? '',
      ...(text('sourceIPAddress') !== undefined ? { sourceIPAddress: text('sourceIPAddress') } : {}),
      ...(text('errorCode') !== undefined ? { errorCode: text('errorCode') } : {}),
      ...(text('userAgent') !== undefined ? { userAgent: text('userAgent') } : {}),
      ...(text('recipientAccountId') !== undefined ? { recipientAccountId: text('recipientAccountId') } : {}),
    });
  }
  return evidence;
}

/** The restore step's own `restoredAt`, for when the account did not observe the re-enable. */
function restoredAtOf(finalData: unknown): string | null {
  const restore = stepValue(record(finalData), 'restore');
  const at = restore?.restoredAt;
  return typeof at === 'string' ? at : null;
}

function outcomeOf(run: EngineRun): Pick<SimulationResult, 'outcome' | 'cause' | 'error'> {
  if (run.status === 'SUCCEEDED') {
    const outcome = record(run.output)?.outcome;
    if (isOutcome(outcome)) {
      return { outcome, cause: null };
    }
    // A success that does not name its outcome is a workflow defect: never report it as a deletion.
    return {
      outcome: 'ABORTED',
      cause: 'WORKFLOW_ERROR',
      error: { Error: 'MissingOutcome', Cause: 'the execution succeeded without an outcome in its output' },
    };
  }
  if (run.status === 'TIMED_OUT') {
    return { outcome: 'ABORTED', cause: 'EXECUTION_TIMED_OUT' };
  }
  if (run.status === 'FAILED' && isOutcome(run.error)) {
    return { outcome: run.error, cause: causeName(run.cause) };
  }
  return {
    outcome: 'ABORTED',
    cause: 'WORKFLOW_ERROR',
    error: { Error: run.error ?? 'States.Runtime', Cause: run.cause ?? '' },
  };
}

export function buildResult(
  name: string,
  run: EngineRun,
  key: KeyReport,
  logStats: LogStats,
): SimulationResult {
  const restoredAt = key.restoredAt?.toISOString() ?? restoredAtOf(run.finalData);
  return {
    name,
    ...outcomeOf(run),
    executionStatus: run.status,
    key: {
      keyId: key.keyId,
      finalState: key.finalState,
      deletionDate: key.deletionDate?.toISOString() ?? null,
      restoredAt,
    },
    timeline: run.timeline.map(({ at, state, handler, detail }) => ({
      at,
      state,
      ...(handler !== undefined ? { handler } : {}),
      detail: { ...detail },
    })),
    notifications: run.notifications.map(({ at, kind, subject, step, message }) => ({
      at,
      kind,
      subject,
      ...(step ? { step } : {}),
      message,
    })),
    evidence: evidenceOf(run.finalData),
    stats: {
      stateTransitions: run.stats.stateTransitions,
      lambdaInvocations: run.stats.lambdaInvocations,
      logEventsScanned: logStats.logEventsScanned,
      logEventsInWindow: logStats.logEventsInWindow,
    },
  };
}

/** One application call of the scenario as the emulated KMS answered it. */
export interface ApplicationCall {
  readonly at: string;
  readonly keyId: string;
  readonly operation: string;
  readonly principal: string;
  readonly ok: boolean;
  readonly errorCode?: string;
}

/** The result plus the scenario's application calls (an extra field the contract allows). */
export type SimulationReport = SimulationResult & { readonly calls: readonly ApplicationCall[] };
