import type { Context } from 'aws-lambda';
import type { WatchEvent } from '../aws/watch-schedule.js';
import { checkEventSchema, watchEnvelopeSchema, watchFieldsSchema } from '../contracts/events.js';
import { parseCanaries } from '../domain/canary.js';
import { checkContract } from '../domain/contract.js';
import { InvalidHandlerEventError } from '../domain/errors.js';
import type { CheckEvent, WatchState } from '../domain/types.js';
import { checkSearchBound, runCheck, type ValidCheckEvent } from './run-check.js';
import {
  continueWatchChain,
  startWatchChain,
  type ValidWatchEvent,
  type WatchChainResult,
  type WatchEnvelope,
} from './watch-chain.js';

export type { WatchChainOutcome, WatchChainResult } from './watch-chain.js';

function parseCheckEvent(event: unknown): ValidCheckEvent {
  checkContract(checkEventSchema, 'Check received an event that breaks its contract', event);
  try {
    parseCanaries((event as CheckEvent).watch.canaries);
  } catch (error) {
    throw new InvalidHandlerEventError(`Check received an event that breaks its contract: ${String(error)}`);
  }
  // The schema checked every field this handler reads; the contract type describes the rest.
  return event as ValidCheckEvent;
}

const WATCH_EVENT_BROKEN = 'Check received a watch event that breaks its contract';

/**
 * Whom a start or schedule event answers. Without a usable token nobody can be told, so this throws;
 * every later contract error is sent to the token.
 */
function parseWatchEnvelope(event: unknown): WatchEnvelope {
  const envelope = checkContract<WatchEvent>(watchEnvelopeSchema, WATCH_EVENT_BROKEN, event);
  return { trigger: envelope.trigger, taskToken: envelope.taskToken, attempt: envelope.attempt ?? 0 };
}

function parseWatchEvent(event: unknown): ValidWatchEvent {
  checkContract(watchFieldsSchema, WATCH_EVENT_BROKEN, event);
  // The envelope and the two schemas checked every field the chain reads.
  return parseCheckEvent(event) as ValidWatchEvent;
}

/**
 * Three ways in:
 * - no `trigger`: one synchronous check (FinalCheck, or CheckAtDeletionDate with `atDeletion`),
 *   returning the advanced WatchState, or the same watch with `resume` while its search is split
 *   (the workflow then calls the same step again with it);
 * - `trigger: 'start'`: the watch's task-token state; schedules the first check at `watch.nextCheckAt`.
 *   Any failure throws, so the task fails and the workflow restores the key;
 * - `trigger: 'schedule'`: a scheduled check; heartbeats the token, runs the check and answers the token
 *   (breakage or done), schedules the next check, retries a transient failure by schedule, or fails the
 *   token with the check's error.
 */
export function handler(event: WatchEvent, context: Context): Promise<WatchChainResult>;
export function handler(event: CheckEvent, context: Context): Promise<WatchState>;
export async function handler(
  rawEvent: CheckEvent | WatchEvent,
  context: Context,
): Promise<WatchState | WatchChainResult> {
  const trigger: unknown =
    typeof rawEvent === 'object' && rawEvent !== null
      ? (rawEvent as { trigger?: unknown }).trigger
      : undefined;
  if (trigger === undefined) {
    const event = parseCheckEvent(rawEvent);
    return runCheck(event, new Date(), checkSearchBound(context, event.assessment.plan));
  }
  const envelope = parseWatchEnvelope(rawEvent);
  // The chain reads the rest itself, so that on a scheduled check a contract error goes to the token.
  const parse = () => parseWatchEvent(rawEvent);
  if (envelope.trigger === 'start') {
    return startWatchChain(parse, envelope, context);
  }
  return continueWatchChain(parse, envelope, context);
}
