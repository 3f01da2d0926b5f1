import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import type { WatchEvent } from '../aws/watch-schedule.js';
import { parseCanaries } from '../domain/canary.js';
import { evidenceShape, InvalidHandlerEventError } from '../domain/hold.js';
import type { CheckEvent, WatchState } from '../domain/types.js';
import { runCheck, type ValidCheckEvent } from './run-check.js';
import {
  continueWatchChain,
  startWatchChain,
  type ValidWatchEvent,
  type WatchChainResult,
  type WatchEnvelope,
} from './watch-chain.js';

export type { WatchChainOutcome, WatchChainResult } from './watch-chain.js';

const isoInstant = z.iso.datetime({ offset: true });

const count = () => z.number().check(z.int(), z.nonnegative());

// The English messages come with ../domain/hold.js, which configures zod/mini for every handler using it.
const checkEventSchema = z
  .looseObject({
    executionArn: z.string().check(z.minLength(1)),
    phase: z.enum(['OBSERVE', 'FINAL', 'PENDING']),
    assessment: z.looseObject({
      verdict: z.literal('ACCEPTED'),
      key: z.looseObject({
        keyId: z.string().check(z.minLength(1)),
        keyArn: z.string().check(z.startsWith('arn:')),
        region: z.string().check(z.minLength(1)),
        aliases: z.array(z.string()),
      }),
      plan: z.looseObject({
        logGroupName: z.string().check(z.minLength(1)),
        observationDays: z.number().check(z.positive()),
        pendingWindowInDays: z.number().check(z.int(), z.minimum(7), z.maximum(30)),
        checkIntervalSeconds: z.number().check(z.positive()),
        ingestionLagSeconds: z.number().check(z.nonnegative()),
        watchPendingWindow: z.boolean(),
        workflowPrincipalArns: z.optional(z.array(z.string())),
      }),
    }),
    disable: z.looseObject({ disabledAt: isoInstant, wasEnabled: z.boolean() }),
    watch: z.looseObject({
      cursor: isoInstant,
      seenEventIds: z.array(z.string()),
      checks: count(),
      evidence: z.array(evidenceShape),
      evidenceCount: count(),
      scanned: count(),
      broke: z.boolean(),
      canariesSeen: z.optional(count()),
    }),
    deletion: z.optional(
      z.nullable(z.looseObject({ scheduledAt: isoInstant, deletionDate: z.nullable(isoInstant) })),
    ),
  })
  .check(
    z.refine(
      (event) => event.phase !== 'PENDING' || (event.deletion !== null && event.deletion !== undefined),
      {
        message: 'PENDING needs the deletion schedule ($.deletion)',
        path: ['deletion'],
      },
    ),
  );

function parseCheckEvent(event: unknown): ValidCheckEvent {
  const result = checkEventSchema.safeParse(event);
  if (!result.success) {
    throw contractError('Check received an event that breaks its contract', result.error.issues);
  }
  try {
    parseCanaries((event as CheckEvent).watch.canaries);
  } catch (error) {
    throw new InvalidHandlerEventError(`Check received an event that breaks its contract: ${String(error)}`);
  }
  // The schema checked every field this handler reads; the contract type describes the rest.
  return event as ValidCheckEvent;
}

const watchEnvelopeSchema = z.looseObject({
  trigger: z.enum(['start', 'schedule']),
  // Step Functions' limit for task tokens.
  taskToken: z.string().check(z.minLength(1), z.maxLength(2048)),
  attempt: z.optional(count()),
});

// What a watch event needs besides a check event's fields: a phase that has a chain, and the time of its check.
const watchFieldsSchema = z.looseObject({
  phase: z.enum(['OBSERVE', 'PENDING']),
  watch: z.looseObject({ nextCheckAt: isoInstant }),
});

function contractError(prefix: string, issues: readonly z.core.$ZodIssue[]): InvalidHandlerEventError {
  const problems = issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
    .join('; ');
  return new InvalidHandlerEventError(`${prefix}: ${problems}`);
}

/**
 * Whom a start or schedule event answers. Without a usable token nobody can be told, so this throws;
 * every later contract error is sent to the token.
 */
function parseWatchEnvelope(event: unknown): WatchEnvelope {
  const result = watchEnvelopeSchema.safeParse(event);
  if (!result.success) {
    throw contractError('Check received a watch event that breaks its contract', result.error.issues);
  }
  return {
    trigger: result.data.trigger,
    taskToken: result.data.taskToken,
    attempt: result.data.attempt ?? 0,
  };
}

function parseWatchEvent(event: unknown): ValidWatchEvent {
  const result = watchFieldsSchema.safeParse(event);
  if (!result.success) {
    throw contractError('Check received a watch event that breaks its contract', result.error.issues);
  }
  // The envelope and the two schemas checked every field the chain reads.
  return parseCheckEvent(event) as ValidWatchEvent;
}

/**
 * Three ways in:
 * - no `trigger`: one synchronous check (FinalCheck), returning the advanced WatchState;
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
    return runCheck(parseCheckEvent(rawEvent), new Date());
  }
  const envelope = parseWatchEnvelope(rawEvent);
  // The chain reads the rest itself, so that on a scheduled check a contract error goes to the token.
  const parse = () => parseWatchEvent(rawEvent);
  if (envelope.trigger === 'start') {
    return startWatchChain(parse, envelope, context);
  }
  return continueWatchChain(parse, envelope, context);
}
