import * as z from 'zod/mini';
import { guardConfigSchema } from './config.js';
import { OUTCOMES } from './outcomes.js';

/**
 * The events the handlers receive: the Payload of each Lambda task (the workflow builds it with
 * Parameters), the watch chain's schedules, and the EventBridge event of the fast path. Only the
 * fields a handler acts on are checked; the rest of each contract object travels on untouched. A
 * malformed event is a workflow bug, never a reason to act.
 */

/** The CloudTrail error codes the EventBridge rule forwards: DisabledException, or the pending-deletion state. */
export const FAST_PATH_ERROR_CODES = ['DisabledException', 'KMSInvalidStateException'] as const;

/** `arn:<partition>:states:<region>:<account>:execution:<state machine>:<name>` (or `express:`). */
export const EXECUTION_ARN =
  /^arn:aws(?:-[a-z]+)*:states:[a-z0-9-]+:(\d{12}):(?:execution|express):[^:]+:.+$/;

// Each schema is built once, at import, in a form the bundler may leave out: esbuild keeps every
// top-level call it cannot prove free of side effects, so without the annotation every handler
// would carry all the event schemas below and the zod parts they need, though it parses with one.

const isoInstant = /* @__PURE__ */ (() => z.iso.datetime({ offset: true }))();

const count = /* @__PURE__ */ (() => z.number().check(z.int(), z.nonnegative()))();

const executionArn = /* @__PURE__ */ (() => z.string().check(z.minLength(1)))();

// The fields of KeyFacts that handlers act on. Plain shapes spread into each schema: zod's pick and
// extend would bring their own code into every bundle.
const keyIdentity = /* @__PURE__ */ (() => ({
  keyId: z.string().check(z.minLength(1)),
  keyArn: z.string().check(z.startsWith('arn:')),
  region: z.string().check(z.minLength(1)),
}))();
const keyAliases = /* @__PURE__ */ (() => ({ aliases: z.array(z.string()) }))();

/** The key as the hold handlers decide on it: identity, state, aliases and tags. */
const keyFactsShape = /* @__PURE__ */ (() =>
  z.looseObject({
    ...keyIdentity,
    keyState: z.string().check(z.minLength(1)),
    ...keyAliases,
    tags: z.record(z.string(), z.string()),
  }))();

/** The key as the watch finds its records: identity and aliases. */
const keyRefShape = /* @__PURE__ */ (() => z.looseObject({ ...keyIdentity, ...keyAliases }))();

/** The per-execution plan (WatchPlan). */
export const planShape = /* @__PURE__ */ (() =>
  z.looseObject({
    logGroupName: z.string().check(z.minLength(1)),
    observationDays: z.number().check(z.positive()),
    pendingWindowInDays: z.number().check(z.int(), z.minimum(7), z.maximum(30)),
    checkIntervalSeconds: z.number().check(z.positive()),
    ingestionLagSeconds: z.number().check(z.nonnegative()),
    watchPendingWindow: z.boolean(),
    workflowPrincipalArns: z.optional(z.array(z.string())),
  }))();

/** An Evidence entry as it travels in the workflow state. */
export const evidenceShape = /* @__PURE__ */ (() =>
  z.looseObject({
    eventID: z.string(),
    eventTime: z.string(),
    eventName: z.string(),
    errorCode: z.string(),
    principal: z.string(),
    sourceIPAddress: z.string(),
    userAgent: z.string(),
  }))();

/**
 * Where a check's or ScheduleDeletion's search stopped for its invocation's time (`watch.resume`):
 * the next invocation of the same step goes on from it. Its records are what the log group returned.
 */
const searchResumeShape = /* @__PURE__ */ (() =>
  z.object({
    logGroupName: z.string().check(z.minLength(1)),
    kind: z.enum(['BREAKAGE', 'PENDING_USE', 'SUCCESSFUL_USE', 'PUBLIC_KEY_DOWNLOAD', 'CANARY']),
    filterPattern: z.string().check(z.minLength(1)),
    start: isoInstant,
    end: isoInstant,
    nextToken: z.string().check(z.minLength(1)),
    tokenAt: isoInstant,
    startedAt: isoInstant,
    invocations: count,
    pages: count,
    restarts: count,
    records: z.array(
      z.looseObject({
        eventID: z.string(),
        eventTime: z.string(),
        eventSource: z.string(),
        eventName: z.string(),
      }),
    ),
    ingestedAt: z.record(z.string(), z.number()),
    scanned: count,
    unparseable: count,
  }))();

/** One canary of the watch state (`watch.canaries`). */
export const canaryShape = /* @__PURE__ */ (() =>
  z.object({
    requestId: z.string(),
    at: isoInstant,
    operation: z.string().check(z.minLength(1)),
    errorCode: z.string(),
    seen: z.boolean(),
  }))();

const disableResultShape = /* @__PURE__ */ (() =>
  z.looseObject({ disabledAt: isoInstant, wasEnabled: z.boolean() }))();

// The approval task's output; free text from the approver, so only its shape is trusted.
const approvalShape = /* @__PURE__ */ (() =>
  z.optional(
    z.nullable(z.looseObject({ decision: z.literal('approve'), by: z.string(), at: z.string() })),
  ))();

const acceptedAssessment = /* @__PURE__ */ (() =>
  z.looseObject({
    verdict: z.literal('ACCEPTED'),
    key: keyFactsShape,
    plan: planShape,
    assessedAt: isoInstant,
  }))();

/** AssessKey: the raw execution input, the stack configuration and the execution. */
export const assessEventSchema = /* @__PURE__ */ (() =>
  z.object({
    input: z.unknown(),
    config: guardConfigSchema,
    executionArn: z.string().check(z.regex(EXECUTION_ARN)),
  }))();

/** DisableKey. */
export const disableEventSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    executionArn,
    assessment: acceptedAssessment,
    approval: approvalShape,
  }))();

/** ScheduleDeletion. */
export const scheduleEventSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    executionArn,
    assessment: acceptedAssessment,
    disable: disableResultShape,
    watch: z.looseObject({ cursor: isoInstant, resume: z.optional(searchResumeShape) }),
    approval: approvalShape,
  }))();

/**
 * The inventory of what the key protects, before the disable approval (BEFORE_DISABLE) and right
 * before ScheduleKeyDeletion (BEFORE_DELETION). `acceptDataLoss` is the validated execution input's.
 */
export const inventoryEventSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    executionArn,
    phase: z.enum(['BEFORE_DISABLE', 'BEFORE_DELETION']),
    assessment: z.looseObject({
      verdict: z.literal('ACCEPTED'),
      key: z.looseObject({ ...keyIdentity, account: z.string().check(z.regex(/^\d{12}$/)) }),
      plan: planShape,
      request: z.looseObject({ acceptDataLoss: z.optional(z.array(z.string())) }),
      summaryText: z.string(),
    }),
  }))();

/** RollBack, CancelDeletion and Restore. */
export const restoreEventSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    executionArn,
    mode: z.enum(['ROLLBACK', 'CANCEL_DELETION', 'ABORT']),
    outcome: z.enum(OUTCOMES),
    // A restore must run even for an assessment that never identified the key: it then does nothing.
    assessment: z.looseObject({ key: z.nullable(keyFactsShape) }),
    watch: z.optional(
      z.nullable(
        z.looseObject({
          evidence: z.array(evidenceShape),
          evidenceCount: count,
        }),
      ),
    ),
    error: z.optional(
      z.nullable(z.looseObject({ Error: z.string(), Cause: z.optional(z.nullable(z.string())) })),
    ),
  }))();

/** CheckForBreakage (OBSERVE), FinalCheck (FINAL) and CheckPendingUse (PENDING). */
export const checkEventSchema = /* @__PURE__ */ (() =>
  z
    .looseObject({
      executionArn,
      phase: z.enum(['OBSERVE', 'FINAL', 'PENDING']),
      assessment: z.looseObject({
        verdict: z.literal('ACCEPTED'),
        key: keyRefShape,
        plan: planShape,
      }),
      disable: disableResultShape,
      watch: z.looseObject({
        cursor: isoInstant,
        seenEventIds: z.array(z.string()),
        checks: count,
        evidence: z.array(evidenceShape),
        evidenceCount: count,
        scanned: count,
        broke: z.boolean(),
        canariesSeen: z.optional(count),
        resume: z.optional(searchResumeShape),
      }),
      deletion: z.optional(
        z.nullable(z.looseObject({ scheduledAt: isoInstant, deletionDate: z.nullable(isoInstant) })),
      ),
      atDeletion: z.optional(z.boolean()),
    })
    .check(
      z.refine(
        (event) => event.phase !== 'PENDING' || (event.deletion !== null && event.deletion !== undefined),
        {
          message: 'PENDING needs the deletion schedule ($.deletion)',
          path: ['deletion'],
        },
      ),
      z.refine((event) => event.atDeletion !== true || event.phase === 'PENDING', {
        message: 'only a PENDING check looks at the key on its deletion date (atDeletion)',
        path: ['atDeletion'],
      }),
    ))();

/** Whom a watch event (the watch's task-token state, or one of its schedules) answers. */
export const watchEnvelopeSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    trigger: z.enum(['start', 'schedule']),
    // Step Functions' limit for task tokens.
    taskToken: z.string().check(z.minLength(1), z.maxLength(2048)),
    attempt: z.optional(count),
  }))();

// What a watch event needs besides a check event's fields: a phase that has a chain, and the time of its check.
export const watchFieldsSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    phase: z.enum(['OBSERVE', 'PENDING']),
    watch: z.looseObject({ nextCheckAt: isoInstant }),
  }))();

/** The fast path's EventBridge event: a KMS CloudTrail record of a failed call. */
export const kmsCloudTrailEventSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    source: z.literal('aws.kms'),
    'detail-type': z.literal('AWS API Call via CloudTrail'),
    account: z.string().check(z.regex(/^\d{12}$/)),
    detail: z.looseObject({
      eventID: z.string().check(z.minLength(1)),
      eventTime: z.string().check(z.minLength(1)),
      eventSource: z.string(),
      eventName: z.string(),
    }),
  }))();

/**
 * What CloudWatch sends a Lambda alarm action: the alarm and the state it entered. Only the fields the
 * alarm relay's e-mail shows are checked.
 */
export const cloudWatchAlarmEventSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    alarmArn: z.string().check(z.minLength(1)),
    region: z.optional(z.string()),
    alarmData: z.looseObject({
      alarmName: z.string().check(z.minLength(1)),
      state: z.looseObject({
        value: z.string(),
        reason: z.optional(z.string()),
        timestamp: z.optional(z.string()),
      }),
      configuration: z.optional(z.looseObject({ description: z.optional(z.string()) })),
    }),
  }))();
