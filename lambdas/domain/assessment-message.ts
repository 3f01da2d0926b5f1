import { CLI_WHERE, cliCommand, executionLookup } from '../contracts/cli.js';
import { hasPublicKey, type PublicKeyHistory } from './refusal.js';
import { toSubject } from './subject.js';
import { HOUR_SECONDS, MINUTE_SECONDS } from './time.js';
import type { ExecutionRequest, KeyFacts, Refusal, UsageAssessment, WatchPlan } from './types.js';
import { isControlCharacter } from './untrusted.js';
import { describeClassification, GET_KEY_LAST_USAGE_CAUTION } from './usage.js';
import { describeReach, type UsageCadence } from './usage-cadence.js';

/**
 * The disable-approval e-mail (plain text) and its subject.
 *
 * Everything a person needs to decide is in the body, and the way to answer is spelled out with
 * the real execution ARN: an e-mail with `<placeholders>` gets answered wrongly or not at all.
 * Key descriptions, aliases, tags and the free-text input come from outside, so control
 * characters are stripped (they could rewrite what a terminal or mail client shows).
 */

export interface AssessmentSummaryArgs {
  readonly executionArn: string;
  readonly key: KeyFacts;
  readonly usage: UsageAssessment;
  readonly request: ExecutionRequest;
  readonly plan: WatchPlan;
  readonly warnings: readonly string[];
  /** Days the approval waits before the execution ends with nothing changed. */
  readonly approvalTimeoutDays?: number | undefined;
  /** The GetPublicKey search, for keys with a public key. */
  readonly publicKey?: PublicKeyHistory | null | undefined;
  /** The approval page's address, when one exists (the assessment itself does not know the task token). */
  readonly approvalUrl?: string | undefined;
}

/** Removes control characters; `keep` lists the ones that may stay (e.g. line breaks in a reason). */
export function stripControl(text: string, keep = ''): string {
  let out = '';
  for (const char of text) {
    if (!isControlCharacter(char.charCodeAt(0)) || keep.includes(char)) {
      out += char;
    }
  }
  return out;
}

/** `<prefix>alias/legacy (1234abcd...)`, or the bare key ID when the key has no alias. */
function subjectFor(prefix: string, key: Pick<KeyFacts, 'keyId' | 'aliases'>): string {
  const alias = key.aliases[0];
  if (alias === undefined) {
    return toSubject(`${prefix}${key.keyId}`);
  }
  // The key ID's start stays when a long alias is cut: it tells two keys with similar aliases apart.
  return toSubject(`${prefix}${alias}`, `(${key.keyId.slice(0, 8)}...)`);
}

/** E-mail subject of the disable approval. */
export function assessmentSubject(key: Pick<KeyFacts, 'keyId' | 'aliases'>): string {
  return subjectFor('Approve disabling KMS key ', key);
}

/** Subject for a refused assessment (the key may be unknown when the input itself was refused). */
export function refusalSubject(refusal: Refusal, key: Pick<KeyFacts, 'keyId' | 'aliases'> | null): string {
  if (!key) {
    return toSubject(`KMS key deletion guard refused the request (${refusal.cause})`);
  }
  return subjectFor(`Refused (${refusal.cause}): KMS key `, key);
}

function line(label: string, value: string): string {
  return `  ${`${label}:`.padEnd(24)}${stripControl(value)}`;
}

function indentBlock(text: string, indent: string): string {
  return stripControl(text, '\n\t')
    .split('\n')
    .map((l) => `${indent}${l}`)
    .join('\n');
}

function multiRegionText(key: KeyFacts): string {
  if (!key.multiRegion) {
    return 'no';
  }
  if (key.multiRegionRole === 'PRIMARY') {
    return `primary key, ${key.replicaCount} replica${key.replicaCount === 1 ? '' : 's'}`;
  }
  return key.multiRegionRole === 'REPLICA' ? 'replica key' : 'yes';
}

function usageLines(
  usage: UsageAssessment,
  key: KeyFacts,
  plan: WatchPlan,
  publicKey: PublicKeyHistory | null,
): string[] {
  const lines = [
    line('Classification', `${describeClassification(usage.classification)} (${usage.classification})`),
    line('Key created', usage.keyCreationDate),
    line('Tracking started', usage.trackingStartDate),
  ];
  const last = usage.lastUsage;
  if (last) {
    const ids = [
      last.cloudTrailEventId ? `CloudTrail event ID ${last.cloudTrailEventId}` : 'no CloudTrail event ID',
      last.kmsRequestId ? `KMS request ID ${last.kmsRequestId}` : undefined,
    ].filter((s): s is string => s !== undefined);
    lines.push(line('Last use', `${last.operation} at ${last.timestamp} (${ids.join(', ')})`));
  } else {
    lines.push(line('Last use', 'none recorded by GetKeyLastUsage'));
  }
  const search = usage.historySearch;
  if (search) {
    const found = search.lastUseFound;
    lines.push(
      line(
        'History search',
        `CloudTrail log group ${plan.logGroupName}, ${search.searchedFrom} to ${search.searchedTo}` +
          ' (it cannot look further back than the log group keeps records)',
      ),
      line(
        'Found before tracking',
        found
          ? `successful ${found.eventName} at ${found.eventTime} (event ID ${found.eventID})`
          : 'no successful use in that range',
      ),
    );
  }
  const cadence = usage.cadence;
  if (cadence) {
    lines.push(line('Earlier uses', cadenceText(cadence)));
  }
  if (hasPublicKey(key)) {
    const downloaded = publicKey?.downloaded === true || search?.publicKeyDownloaded === true;
    const last = publicKey?.lastDownload;
    lines.push(
      line(
        'Public key',
        downloaded
          ? `DOWNLOADED with GetPublicKey${last ? ` (last at ${last.eventTime} by ${last.principal}, event ID ${last.eventID})` : ''}`
          : publicKey
            ? `no GetPublicKey found from ${publicKey.searchedFrom} to ${publicKey.searchedTo}` +
              (publicKey.gap ? `; a download cannot be ruled out: ${publicKey.gap.detail}` : '')
            : 'not searched',
      ),
    );
  }
  lines.push(
    '',
    indentBlock(wrap(`In the words of the GetKeyLastUsage API reference: ${usage.explanation}`, 94), '  '),
    '',
    indentBlock(
      wrap(
        `Caution, from the same reference: "${GET_KEY_LAST_USAGE_CAUTION}" That is what this workflow does ` +
          'next, if you approve.',
        94,
      ),
      '  ',
    ),
  );
  return lines;
}

/** The cadence in one line: what is known of the uses, against the observation, and how far the search reached. */
function cadenceText(cadence: UsageCadence): string {
  const gap = cadence.longestGap;
  const known =
    cadence.knownUses === 1
      ? 'one use known'
      : `${cadence.knownUses} uses located (busy stretches are sampled, not counted)` +
        (gap && gap.days <= cadence.observationDays
          ? `; no gap between uses is longer than the ${cadence.observationDays}-day observation`
          : '');
  return `${known}; ${describeReach(cadence)}`;
}

function planText(plan: WatchPlan): string {
  const hours = plan.checkIntervalSeconds / HOUR_SECONDS;
  const lagMinutes = plan.ingestionLagSeconds / MINUTE_SECONDS;
  const pending = plan.watchPendingWindow
    ? ' and keeps watching during that window, cancelling the deletion if anything tries to use the key'
    : ' (the pending window is not watched by this stack)';
  return (
    `If you approve, the workflow disables the key (it can be re-enabled at any time; nothing is deleted ` +
    `now), then checks the CloudTrail log group ${plan.logGroupName} every ${hours} hour${hours === 1 ? '' : 's'} ` +
    `for DisabledException on this key, for ${plan.observationDays} day${plan.observationDays === 1 ? '' : 's'} ` +
    `plus ${lagMinutes} minutes for CloudTrail delivery. If any caller fails, it re-enables the key and e-mails ` +
    `the evidence. If nothing breaks, it asks a second approval before scheduling deletion with a ` +
    `${plan.pendingWindowInDays}-day pending window${pending}.`
  );
}

function wrap(text: string, width = 96): string {
  const out: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current.length > 0 && current.length + 1 + word.length > width) {
      out.push(current);
      current = word;
    } else {
      current = current.length > 0 ? `${current} ${word}` : word;
    }
  }
  if (current.length > 0) {
    out.push(current);
  }
  return out.join('\n');
}

/** `  - first line` with continuation lines under the text, not under the dash. */
function bullet(text: string): string {
  return indentBlock(wrap(text, 92), '    ').replace(/^ {4}/, '  - ');
}

/** The heading of the answer section, which every section added later goes before. */
const ANSWER_HEADING = 'HOW TO ANSWER';

/**
 * The summary with one more section (e.g. the inventory, which a later step adds) before the answer
 * section, or at the end of a summary that has none.
 */
export function withSection(summaryText: string, section: readonly string[]): string {
  const block = section.map((l) => stripControl(l)).join('\n');
  const at = summaryText.indexOf(`\n${ANSWER_HEADING}\n`);
  if (at < 0) {
    return `${summaryText.replace(/\n*$/, '')}\n\n${block}\n`;
  }
  return `${summaryText.slice(0, at + 1)}${block}\n\n${summaryText.slice(at + 1)}`;
}

function answerLines(executionArn: string, approvalTimeoutDays?: number, approvalUrl?: string): string[] {
  const arn = stripControl(executionArn);
  const lines = [
    ANSWER_HEADING,
    `  Approve: ${cliCommand(`approve ${arn} --step disable`)}`,
    `  Reject:  ${cliCommand(`reject ${arn} --step disable`)}`,
    `  (run these ${CLI_WHERE})`,
  ];
  if (approvalUrl) {
    lines.push(`  Or open this page and choose there: ${stripControl(approvalUrl)}`);
  }
  lines.push(`  Where it stands: ${executionLookup(arn)}`);
  if (approvalTimeoutDays !== undefined) {
    lines.push(
      `  Without an answer within ${approvalTimeoutDays} day${approvalTimeoutDays === 1 ? '' : 's'} the execution ` +
        'ends and the key stays as it is.',
    );
  }
  return lines;
}

/** Plain-text body of the disable-approval e-mail. */
export function renderAssessmentSummary(args: AssessmentSummaryArgs): string {
  const { executionArn, key, usage, request, plan, warnings } = args;
  const title = `Approval needed: disable KMS key ${key.keyId}${key.aliases.length ? ` (${key.aliases[0]})` : ''}`;
  const sections: string[] = [
    stripControl(title),
    '',
    wrap(
      'kms-deletion-guard asks whether it may DISABLE this KMS key and watch CloudTrail for callers that ' +
        'still need it. Nothing is deleted at this step.',
    ),
    '',
    'KEY',
    line('Key ID', key.keyId),
    line('Key ARN', key.keyArn),
    line('Aliases', key.aliases.length ? key.aliases.join(', ') : '(none)'),
    line('Description', key.description || '(none)'),
    line('State', key.keyState),
    line('Key spec / usage', `${key.keySpec} / ${key.keyUsage}`),
    line('Multi-Region', multiRegionText(key)),
    line('Account / Region', `${key.account} / ${key.region}`),
    line('Created', key.creationDate),
    '',
    'USAGE (GetKeyLastUsage)',
    ...usageLines(usage, key, plan, args.publicKey ?? null),
    '',
    'WARNINGS',
    ...(warnings.length ? warnings.map(bullet) : ['  (none)']),
    '',
    'PLAN',
    indentBlock(wrap(planText(plan), 94), '  '),
    '',
    'REQUEST',
    line('Requested by', request.requestedBy || '(not given)'),
    request.reason ? `  Reason:\n${indentBlock(request.reason, '    ')}` : line('Reason', '(not given)'),
    line('Execution', executionArn),
    '',
    ...answerLines(executionArn, args.approvalTimeoutDays, args.approvalUrl),
    '',
  ];
  return sections.join('\n');
}

export interface RefusalSummaryArgs {
  readonly executionArn: string;
  readonly refusal: Refusal;
  readonly key: KeyFacts | null;
  readonly request: ExecutionRequest | null;
}

/** Plain-text summary of a refused assessment (nothing was changed; no approval is asked). */
export function renderRefusalSummary(args: RefusalSummaryArgs): string {
  const { executionArn, refusal, key, request } = args;
  const lines = [
    `Refused (${refusal.cause}): nothing was changed.`,
    '',
    indentBlock(wrap(refusal.message, 96), ''),
    '',
  ];
  if (key) {
    lines.push(
      line('Key ID', key.keyId),
      line('Key ARN', key.keyArn),
      line('Aliases', key.aliases.length ? key.aliases.join(', ') : '(none)'),
      line('State', key.keyState),
    );
  } else if (request) {
    lines.push(line('Key', request.keyId));
  }
  if (request) {
    lines.push(line('Requested by', request.requestedBy || '(not given)'));
  }
  lines.push(line('Execution', executionArn), '');
  return lines.join('\n');
}
