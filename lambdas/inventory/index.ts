import { cloudTrailClient, homeRegion } from '../aws/clients.js';
import { inventoryClients } from '../aws/inventory/clients.js';
import { takeInventory } from '../aws/inventory/index.js';
import { createLogger } from '../aws/logger.js';
import { inventoryEventSchema } from '../contracts/events.js';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import { refusalSubject, renderRefusalSummary, withSection } from '../domain/assessment-message.js';
import { InvalidHandlerEventError } from '../domain/errors.js';
import {
  describeResource,
  type InventoryPhase,
  type InventoryReport,
  inventoryReport,
  judgeInventory,
} from '../domain/inventory.js';
import { inventoryLines } from '../domain/inventory-message.js';
import type { Assessment, InventoryCheck, Refusal } from '../domain/types.js';

const logger = createLogger('inventory');

/** Resources per log entry: every one is logged, in entries that stay far below CloudWatch's 256 KB. */
const LOGGED_PER_ENTRY = 200;

/**
 * The inventory of what the key protects (TakeInventory before the disable approval,
 * TakeInventoryBeforeDeletion right before ScheduleKeyDeletion). It reads, never changes anything.
 *
 * Before the disable approval it answers the assessment again: refused with the inventory's cause, or
 * accepted with the inventory added to the approval e-mail. Before the deletion it answers CLEAR or
 * REFUSED, and the workflow gives the key back on REFUSED. Every failed read is an answer
 * (INVENTORY_INCOMPLETE), not an error to retry: a retry of the whole step could not tell which read
 * to trust.
 */
export async function handler(rawEvent: unknown): Promise<Assessment | InventoryCheck> {
  const parsed = safeParseContract(inventoryEventSchema, rawEvent);
  if (!parsed.success) {
    throw new InvalidHandlerEventError(
      `TakeInventory received a malformed event (${describeIssues(parsed.error.issues, Number.POSITIVE_INFINITY)}).`,
    );
  }
  const { phase, executionArn } = parsed.data;
  // The contract's assessment: the schema checked what this step reads, the rest travels on untouched.
  const assessment = parsed.data.assessment as unknown as Assessment & typeof parsed.data.assessment;
  const { key, plan } = parsed.data.assessment;
  const acceptDataLoss = parsed.data.assessment.request.acceptDataLoss ?? [];
  const now = new Date();
  const home = homeRegion();

  const taken = await takeInventory(
    inventoryClients(key.region),
    { keyId: key.keyId, keyArn: key.keyArn },
    { watchTrails: home === key.region ? undefined : cloudTrailClient(home) },
  );
  const judgement = judgeInventory({
    key: { keyId: key.keyId, keyArn: key.keyArn, aliases: taken.aliases },
    findings: taken.findings,
    acceptDataLoss,
    watchSource: { logGroupName: plan.logGroupName, region: home, account: key.account },
    phase,
  });
  const report = inventoryReport({
    phase,
    takenAt: now,
    region: key.region,
    judgement,
    findings: taken.findings,
    acceptDataLoss,
  });
  log(phase, key.keyArn, judgement.refusal, report, judgement.resources.map(describeResource));

  const refusal = judgement.refusal;
  const causeText = refusal ? `${refusal.cause}: ${refusal.message}` : '';
  if (phase === 'BEFORE_DELETION') {
    return { verdict: refusal ? 'REFUSED' : 'CLEAR', refusal, causeText, inventory: report };
  }
  const section = inventoryLines(report);
  if (refusal) {
    return {
      ...assessment,
      verdict: 'REFUSED',
      refusal,
      causeText,
      inventory: report,
      summaryText: withSection(
        renderRefusalSummary({ executionArn, refusal, key: assessment.key, request: assessment.request }),
        section,
      ),
      subject: refusalSubject(refusal, assessment.key),
    };
  }
  return { ...assessment, inventory: report, summaryText: withSection(assessment.summaryText, section) };
}

/** The verdict in one entry, then every resource found (the state keeps only the first ones). */
function log(
  phase: InventoryPhase,
  keyArn: string,
  refusal: Refusal | null,
  report: InventoryReport,
  resources: readonly string[],
): void {
  logger.info('inventory', {
    phase,
    keyArn,
    verdict: refusal ? 'REFUSED' : 'CLEAR',
    cause: refusal?.cause ?? null,
    resourceCount: report.resourceCount,
    acceptedDataLoss: report.acceptedDataLoss,
    failures: report.failures,
    grantCount: report.grantCount,
    watchSource: report.watchSource,
  });
  for (let from = 0; from < resources.length; from += LOGGED_PER_ENTRY) {
    logger.info('inventory resources', {
      phase,
      keyArn,
      from,
      resources: resources.slice(from, from + LOGGED_PER_ENTRY),
    });
  }
}
