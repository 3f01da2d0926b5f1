/**
 * The emulated EventBridge default bus of the simulated Region: every KMS CloudTrail record the
 * account writes becomes an `AWS API Call via CloudTrail` event that reaches the bus after
 * `cloudTrail.eventBridgeLag`, is matched against the synthesized stack's rules (their event
 * pattern and state) and, when the rule targets a handler, invokes the real handler. Best effort,
 * as the real thing: `cloudTrail.eventBridgeDrop` drops that share of events, deterministically; a
 * call's own `eventBridge` / `eventBridgeLag` decide for its event alone.
 */

import { DefinitionError, type EventRule } from './definition.js';
import type { EmittedRecord, EmulatedAccount } from './emulator/account.js';
import { deterministicUuid } from './emulator/cloudtrail.js';

export interface BusOptions {
  readonly rules: readonly EventRule[];
  readonly lagMs: number;
  /** Share of events dropped, 0..1. */
  readonly drop: number;
  readonly account: string;
  /** The Region of the stack: rules are Regional, records of other Regions never reach this bus. */
  readonly region: string;
}

/** One event on its way to a rule's target. */
export interface BusDelivery {
  readonly deliverAt: number;
  readonly handler: string;
  readonly rule: string;
  readonly event: Readonly<Record<string, unknown>>;
  readonly eventID: string;
}

export interface BusStats {
  matched: number;
  dropped: number;
  delivered: number;
}

/**
 * EventBridge pattern matching for what the stack's rules use: each pattern field is a list of
 * accepted literal values (an array in the event matches when any element does) or a nested pattern.
 * Content filters (`prefix`, `anything-but`, ...) are refused rather than guessed.
 */
export function matchesPattern(pattern: Readonly<Record<string, unknown>>, event: unknown): boolean {
  if (typeof event !== 'object' || event === null) {
    return false;
  }
  const fields = event as Record<string, unknown>;
  return Object.entries(pattern).every(([name, expected]) => {
    const actual = fields[name];
    if (Array.isArray(expected)) {
      if (expected.some((value) => typeof value === 'object' && value !== null)) {
        throw new DefinitionError(
          `event pattern field '${name}' uses a content filter the simulator does not model`,
        );
      }
      const values = Array.isArray(actual) ? actual : [actual];
      return values.some((value) => value !== undefined && expected.includes(value));
    }
    if (typeof expected === 'object' && expected !== null) {
      return matchesPattern(expected as Record<string, unknown>, actual);
    }
    throw new DefinitionError(`event pattern field '${name}' is neither a list nor a nested pattern`);
  });
}

/** `kms.amazonaws.com` -> `aws.kms`, as EventBridge names the source of CloudTrail events. */
function sourceOf(eventSource: string): string {
  return `aws.${eventSource.replace(/\.amazonaws\.com$/, '')}`;
}

/** The event EventBridge puts on the bus for one CloudTrail record: its `detail` is the record. */
export function cloudTrailEvent(emitted: EmittedRecord, account: string): Record<string, unknown> {
  const record = emitted.record;
  return {
    version: '0',
    id: deterministicUuid('eventbridge', record.eventID),
    'detail-type': 'AWS API Call via CloudTrail',
    source: sourceOf(record.eventSource),
    account,
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: record,
  };
}

export class EmulatedEventBridge {
  private readonly queue: BusDelivery[] = [];
  private eligible = 0;
  readonly stats: BusStats = { matched: 0, dropped: 0, delivered: 0 };

  constructor(private readonly options: BusOptions) {}

  /** Subscribes to the account's records from now on; returns the unsubscribe function. */
  attach(account: EmulatedAccount): () => void {
    return account.onRecord((emitted) => this.publish(emitted));
  }

  /**
   * A record reaches the bus only if a trail is logging it (EventBridge needs a trail with logging
   * on to receive `AWS API Call via CloudTrail`), from the stack's Region. Read-only events
   * (Decrypt, Encrypt, ...) reach only rules in the `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` state.
   */
  publish(emitted: EmittedRecord): void {
    const record = emitted.record;
    if (emitted.visibleAt === null || record.awsRegion !== this.options.region) {
      return;
    }
    const event = cloudTrailEvent(emitted, this.options.account);
    for (const rule of this.options.rules) {
      const receives =
        rule.state === 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS' ||
        (rule.state === 'ENABLED' && record.readOnly !== true);
      if (!receives || !matchesPattern(rule.pattern, event)) {
        continue;
      }
      this.stats.matched += 1;
      // A call that says how its event fares overrides the share: it neither takes a drop from the
      // others nor shifts which of them are dropped.
      const mode = emitted.eventBridge?.mode;
      if (mode === 'drop' || (mode === undefined && this.drops())) {
        this.stats.dropped += 1;
        continue;
      }
      this.insert({
        deliverAt: emitted.at + (emitted.eventBridge?.lagMs ?? this.options.lagMs),
        handler: rule.handler,
        rule: rule.logicalId,
        event,
        eventID: record.eventID,
      });
    }
  }

  /** When the next event is due, or null. */
  nextDueAt(): number | null {
    return this.queue[0]?.deliverAt ?? null;
  }

  /** Removes and returns the events due at or before `untilMs`, in time order. */
  takeDue(untilMs: number): BusDelivery[] {
    const due: BusDelivery[] = [];
    while (this.queue[0] && this.queue[0].deliverAt <= untilMs) {
      due.push(this.queue.shift() as BusDelivery);
    }
    this.stats.delivered += due.length;
    return due;
  }

  /** Exactly `drop` of the events so far, spread evenly: event n is dropped when floor(n*drop) steps. */
  private drops(): boolean {
    const n = this.eligible;
    this.eligible += 1;
    const drop = Math.min(1, Math.max(0, this.options.drop));
    return Math.floor((n + 1) * drop) > Math.floor(n * drop);
  }

  private insert(delivery: BusDelivery): void {
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1]?.deliverAt ?? 0) > delivery.deliverAt) {
      i -= 1;
    }
    this.queue.splice(i, 0, delivery);
  }
}
