import { gunzipSync } from 'node:zlib';
import { readEnvironment } from '../aws/environment.js';
import { readSightings } from '../aws/hold-reader.js';
import { readHolds } from '../aws/holds-by-key.js';
import { listLiveHolds } from '../aws/live-holds.js';
import { createLogger } from '../aws/logger.js';
import { putDeliveredSightings } from '../aws/sweep-registry.js';
import { subscriptionEventSchema, subscriptionMessageSchema } from '../contracts/deliveries.js';
import { deliveriesEnvironment } from '../contracts/environment.js';
import type { HoldRecord } from '../contracts/hold-registry.js';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import { type SweptHold, sightingsKeyOf } from '../contracts/sweep.js';
import { type CloudTrailRecord, keyArnsNamedBy, recordConcernsKey } from '../domain/cloudtrail.js';
import { InvalidHandlerEventError, SightingsContendedError } from '../domain/errors.js';
import { withDelivered } from '../domain/stream.js';
import { SIGHTINGS_TTL_MS, sweptHoldOf } from '../domain/sweep.js';
import { carriedRecord, parseRecord } from '../domain/trail-record.js';

const logger = createLogger('deliveries');

/** Tries at writing one hold's sightings while other deliveries write it too. */
const MAX_WRITE_TRIES = 8;

export interface DeliveriesOutcome {
  /** Log events delivered, records among them that are no CloudTrail record, and held keys written. */
  readonly events: number;
  readonly unparseable: number;
  readonly holds: number;
}

/** The JSON document of one delivery: Base64, gzip, JSON, each checked. */
function decode(rawEvent: unknown) {
  const event = safeParseContract(subscriptionEventSchema, rawEvent);
  if (!event.success) {
    throw new InvalidHandlerEventError(
      `Deliveries was invoked with an event that is not a CloudWatch Logs subscription's: ${describeIssues(event.error.issues, 3)}`,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(gunzipSync(Buffer.from(event.data.awslogs.data, 'base64')).toString('utf8'));
  } catch (error) {
    throw new InvalidHandlerEventError(
      `The subscription's data is not a Base64 gzip archive of JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const message = safeParseContract(subscriptionMessageSchema, document);
  if (!message.success) {
    throw new InvalidHandlerEventError(
      `The subscription's message does not have CloudWatch Logs' shape: ${describeIssues(message.error.issues, 3)}`,
    );
  }
  return message.data;
}

/**
 * Adds `records` to the hold's sightings, over the version read: a delivery that meets another one
 * writing the same hold reads again and merges, so neither's records are lost.
 */
async function addToHold(
  hold: SweptHold,
  records: readonly CloudTrailRecord[],
  receivedAt: Date,
  workflowPrincipalArns: readonly string[],
): Promise<void> {
  for (let attempt = 1; attempt <= MAX_WRITE_TRIES; attempt += 1) {
    const current = await readSightings(hold.keyArn);
    const merged = withDelivered({ current, hold, records, receivedAt, workflowPrincipalArns });
    const written = await putDeliveredSightings(
      {
        ...merged,
        records: merged.records.map(carriedRecord),
        keyArn: sightingsKeyOf(hold.keyArn),
        expiresAt: Math.floor((receivedAt.getTime() + SIGHTINGS_TTL_MS) / 1000),
      },
      current?.version ?? null,
    );
    if (written === 'WRITTEN') return;
  }
  // Failing makes Lambda try the delivery again, and the proof counts the error: never a lost record.
  throw new SightingsContendedError(
    `The sightings of ${hold.keyArn} kept changing under ${MAX_WRITE_TRIES} writes of one delivery.`,
  );
}

/**
 * The live holds the records may concern: read by key ARN where every record names its key (together,
 * in one BatchGetItem a hundred), or all of them (one Scan) when a record names its key only by an
 * alias or a bare ID.
 */
async function holdsNamedBy(records: readonly CloudTrailRecord[], lagSeconds: number): Promise<SweptHold[]> {
  const named = records.map(keyArnsNamedBy);
  let holds: HoldRecord[];
  if (named.some((arns) => arns === null)) {
    const live = await listLiveHolds();
    for (const error of live.unreadable) {
      logger.error('hold left out of the deliveries', { error: error.message });
    }
    holds = live.holds;
  } else {
    const arns = [...new Set(named.flatMap((arns) => arns ?? []))];
    holds = await readHolds(arns);
  }
  return holds
    .map((hold) => sweptHoldOf(hold, lagSeconds))
    .filter((hold): hold is SweptHold => hold !== null);
}

/**
 * Receives what the log group's subscription delivers: failed KMS calls, as CloudWatch Logs ingests
 * them (lambdas/domain/stream.ts). Each record is matched against the live holds it may concern (ARN,
 * key ID, aliases, as a search's records are) and added to the sightings of each hold it concerns, where the
 * hold's checks read it. Every error propagates: Lambda retries the delivery, and the proof of the
 * deliveries counts the failure, so the holds it could have concerned are restored, never decided.
 */
export async function handler(rawEvent: unknown): Promise<DeliveriesOutcome> {
  const settings = readEnvironment(deliveriesEnvironment);
  const receivedAt = new Date();
  const message = decode(rawEvent);
  if (message.messageType === 'CONTROL_MESSAGE') {
    return { events: 0, unparseable: 0, holds: 0 };
  }
  const records: CloudTrailRecord[] = [];
  let unparseable = 0;
  for (const logEvent of message.logEvents) {
    const record = parseRecord(logEvent.message);
    if (record) records.push(record);
    else unparseable += 1;
  }
  if (unparseable > 0) {
    logger.warn('delivered events that are no CloudTrail record', {
      unparseable,
      logGroup: message.logGroup,
    });
  }
  if (records.length === 0) {
    return { events: message.logEvents.length, unparseable, holds: 0 };
  }
  const holds = await holdsNamedBy(records, settings.lagSeconds);
  const touched = holds
    .map((hold) => {
      const key = { keyId: hold.keyId, keyArn: hold.keyArn, aliases: hold.aliases };
      return { hold, mine: records.filter((record) => recordConcernsKey(record, key)) };
    })
    .filter(({ mine }) => mine.length > 0);
  for (const { hold, mine } of touched) {
    await addToHold(hold, mine, receivedAt, settings.workflowPrincipals);
  }
  const outcome = { events: message.logEvents.length, unparseable, holds: touched.length };
  logger.info('deliveries recorded', { ...outcome, logStream: message.logStream });
  return outcome;
}
