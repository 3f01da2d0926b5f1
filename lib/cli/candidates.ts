import { type KeyListEntry, type KeyMetadata, type KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import {
  type InventoryClients,
  type RegionResources,
  readRegionResources,
  scopeOf,
} from '../../lambdas/aws/inventory/index.js';
import { readGrants } from '../../lambdas/aws/inventory/key-access.js';
import { listAliases } from '../../lambdas/aws/key-aliases.js';
import { describeKey, keyFactsOf, readTags } from '../../lambdas/aws/key-reader.js';
import { classifyKeyUsage } from '../../lambdas/aws/key-usage.js';
import { CONFIG_DEFAULTS, WHOLE_NUMBER_SETTINGS } from '../../lambdas/contracts/config.js';
import { describeFailure, describeResource, resourcesOfKey } from '../../lambdas/domain/inventory.js';
import { findRefusal, hasPublicKey } from '../../lambdas/domain/refusal.js';
import { wholeDays } from '../../lambdas/domain/time.js';
import {
  type ExecutionRequest,
  type GuardConfig,
  type KeyFacts,
  type Refusal,
  TAGS,
  type UsageAssessment,
  type UsageClassification,
} from '../../lambdas/domain/types.js';
import { AWS_OPTIONS, type CommandSpec, integerOption, runParsedCommand } from './args.js';
import { awsOptions, CONCURRENCY, mapLimit, resolveRegion, withClients } from './aws.js';
import { describeError, UsageError } from './errors.js';
import { EXIT_SUCCESS } from './exit-codes.js';
import { usageHint } from './help.js';
import { type CliIo, formatTable } from './io.js';

/**
 * `candidates`: the fleet report. Every customer managed key of the Region with its state, last use,
 * TrackingStartDate case and aliases, and whether the workflow would accept it, judged by the same
 * refusal rules AssessKey applies. A key that cannot be read is listed as UNREADABLE with the error:
 * a report that silently leaves out the keys it could not see would look cleaner than the account is.
 *
 * With each key, how many resources of the Region it protects (data at rest that no watch can see,
 * the same inventory the workflow takes: one walk of each service serves every key) and how many
 * grants it has. Where the inventory could not tell, the count is UNREADABLE and the key, which the
 * workflow would refuse (INVENTORY_INCOMPLETE), is listed UNREADABLE; a key that protects data is
 * REFUSED (PROTECTS_DATA).
 */

/** The stack configuration's default minIdleDays. */
export const DEFAULT_MIN_IDLE_DAYS = CONFIG_DEFAULTS.minIdleDays;

/** The range --min-idle-days accepts, shown by `--help` and enforced before any AWS call. */
const MIN_IDLE_DAYS = WHOLE_NUMBER_SETTINGS.minIdleDays;

export const CANDIDATES_COMMAND: CommandSpec = {
  name: 'candidates',
  description: 'Report every customer managed key of a Region and whether the workflow would take it.',
  options: {
    'min-idle-days': {
      type: 'string',
      value: 'N',
      description: `days a key must be unused to be a candidate (${MIN_IDLE_DAYS.min}-${MIN_IDLE_DAYS.max}); default: ${DEFAULT_MIN_IDLE_DAYS}`,
    },
    'skip-inventory': {
      type: 'boolean',
      description:
        'do not read what each key protects (the inventory pages every service of the Region; rows then say "not read")',
    },
    json: { ...AWS_OPTIONS.json, description: 'print the rows as one JSON array (the totals go to stderr)' },
    csv: { type: 'boolean', description: 'print the rows as CSV with a header (the totals go to stderr)' },
    region: AWS_OPTIONS.region,
    profile: AWS_OPTIONS.profile,
  },
};

export type Verdict = 'ACCEPTED' | 'REFUSED' | 'UNREADABLE';

export interface CandidateRow {
  readonly keyId: string;
  readonly keyArn: string | null;
  readonly state: string | null;
  readonly aliases: readonly string[];
  readonly lastUsedOperation: string | null;
  readonly lastUsedAt: string | null;
  readonly usage: UsageClassification | null;
  readonly trackingStartDate: string | null;
  readonly creationDate: string | null;
  readonly verdict: Verdict;
  /** The refusal cause for REFUSED (e.g. RECENTLY_USED); null otherwise. */
  readonly cause: string | null;
  /** A few words for the table. */
  readonly summary: string;
  /** The full reason: the refusal message, the usage explanation, or the error of an UNREADABLE key. */
  readonly reason: string;
  /** How many resources of the Region are encrypted under the key; null when unknown (see `protectsText`). */
  readonly protects: number | null;
  /** The count, `UNREADABLE: <what failed>`, or `not read` (--skip-inventory or the key itself unreadable). */
  readonly protectsText: string;
  /** How many grants the key has (ListGrants); null when they could not be read. */
  readonly grants: number | null;
}

export interface CandidatesReport {
  readonly region: string;
  readonly minIdleDays: number;
  readonly rows: readonly CandidateRow[];
  readonly awsManagedSkipped: number;
  /** Set when ListAliases failed: aliases are then missing from every row. */
  readonly aliasesError: string | null;
  /** Whether the inventory of the Region was read (not with --skip-inventory). */
  readonly inventoryRead: boolean;
}

/** Live progress on stderr, drawn only on a terminal so files and pipes get clean output. */
class Progress {
  private shown = false;
  constructor(private readonly io: CliIo) {}
  update(text: string): void {
    if (!this.io.stderrIsTTY) return;
    this.io.stderr(`\r\x1b[K${text}`);
    this.shown = true;
  }
  clear(): void {
    if (this.shown) this.io.stderr('\r\x1b[K');
    this.shown = false;
  }
}

async function listAllKeys(kms: KMSClient, progress: Progress): Promise<KeyListEntry[]> {
  const keys: KeyListEntry[] = [];
  let marker: string | undefined;
  do {
    const page = await kms.send(new ListKeysCommand({ Limit: 1000, Marker: marker }));
    keys.push(...(page.Keys ?? []));
    progress.update(`Listing keys: ${keys.length}`);
    marker = page.Truncated ? page.NextMarker : undefined;
  } while (marker);
  return keys;
}

/** Every alias of the Region by the key it points to (one ListAliases walk instead of one per key). */
async function aliasesByKey(kms: KMSClient): Promise<Map<string, string[]>> {
  const byKey = new Map<string, string[]>();
  for (const alias of await listAliases(kms, { pageSize: 100 })) {
    if (alias.TargetKeyId && alias.AliasName) {
      byKey.set(alias.TargetKeyId, [...(byKey.get(alias.TargetKeyId) ?? []), alias.AliasName]);
    }
  }
  return byKey;
}

/** AssessKey's configuration as far as the key-level rules use it. */
function assessConfig(minIdleDays: number): GuardConfig {
  return {
    cloudTrailLogGroupName: '',
    observationDays: 30,
    checkIntervalHours: 6,
    ingestionLagMinutes: 30,
    minIdleDays,
    approvalTimeoutDays: 7,
    pendingWindowInDays: 30,
    watchPendingWindow: true,
  };
}

function daysSince(iso: string, now: Date): number {
  return wholeDays(now.getTime() - Date.parse(iso));
}

function refusedSummary(
  refusal: Refusal,
  facts: KeyFacts,
  usage: UsageAssessment,
  now: Date,
  minIdleDays: number,
): string {
  switch (refusal.cause) {
    case 'RECENTLY_USED': {
      const at = usage.lastUsage?.timestamp;
      return at ? `used ${daysSince(at, now)} days ago; minIdleDays ${minIdleDays}` : 'used recently';
    }
    case 'PENDING_DELETION':
      return `already ${facts.keyState}`;
    case 'KEY_STATE_NOT_ALLOWED':
      return `state ${facts.keyState}`;
    case 'MULTI_REGION_PRIMARY_WITH_REPLICAS':
      return `multi-Region primary with ${facts.replicaCount} replica${facts.replicaCount === 1 ? '' : 's'}`;
    case 'HELD_BY_ANOTHER_EXECUTION':
      return `held by ${facts.tags[TAGS.execution] ?? 'another execution'}`;
    case 'AWS_MANAGED_KEY':
      return 'not a customer managed key';
    default:
      return refusal.message.split('. ')[0] ?? refusal.message;
  }
}

function acceptedSummary(
  facts: KeyFacts,
  usage: UsageAssessment,
  now: Date,
): { summary: string; notes: string[] } {
  const notes: string[] = [];
  let summary: string;
  switch (usage.classification) {
    case 'NEVER_USED':
      summary = 'never used';
      break;
    case 'USED':
      summary = `idle ${usage.lastUsage ? daysSince(usage.lastUsage.timestamp, now) : '?'} days`;
      break;
    case 'UNKNOWN_BEFORE_TRACKING':
      summary = 'no use since tracking began; earlier use unknown';
      notes.push(
        'At start the workflow searches the CloudTrail log group for use before TrackingStartDate and refuses the key if it finds recent use.',
      );
      break;
  }
  if (hasPublicKey(facts)) {
    summary += '; asymmetric';
    notes.push(
      "The key has a public key: the workflow refuses it if CloudTrail shows a GetPublicKey download, or cannot rule one out because the log group keeps less than the key's life (unless allowExportedPublicKey).",
    );
  }
  return { summary, notes };
}

function unreadable(
  keyId: string,
  call: string,
  error: unknown,
  known: { keyArn?: string | null; state?: string | null; aliases?: readonly string[] } = {},
): CandidateRow {
  const text = `${call}: ${describeError(error).message}`;
  return {
    keyId,
    keyArn: known.keyArn ?? null,
    state: known.state ?? null,
    aliases: known.aliases ?? [],
    lastUsedOperation: null,
    lastUsedAt: null,
    usage: null,
    trackingStartDate: null,
    creationDate: null,
    verdict: 'UNREADABLE',
    cause: null,
    summary: text,
    reason: text,
    ...NOT_READ,
  };
}

const NOT_READ = { protects: null, protectsText: 'not read', grants: null } as const;

/** What the inventory says of one key: the resources it protects, or why that is unknown. */
interface Protection {
  readonly protects: number | null;
  readonly protectsText: string;
  readonly grants: number | null;
  /** The first resources, for the refusal's words. */
  readonly found: readonly string[];
  /** Why the count is unknown, when it is. */
  readonly unreadable: string | null;
}

async function protectionOf(
  kms: KMSClient,
  facts: KeyFacts,
  region: RegionResources | null,
  aliasesError: string | null,
): Promise<Protection> {
  let grants: number | null = null;
  try {
    grants = region ? (await readGrants(kms, facts.keyArn)).length : null;
  } catch {
    grants = null;
  }
  if (!region) {
    return { protects: null, protectsText: 'not read', grants, found: [], unreadable: null };
  }
  const ours = resourcesOfKey(region.resources, facts);
  // Without the aliases, a resource that names the key through one cannot be told from another key's.
  const unmatchable = aliasesError && region.resources.some((r) => r.keyRef.includes('alias/'));
  const why = [
    ...region.failures.map(describeFailure),
    ...(unmatchable ? [`${aliasesError} (resources name keys through aliases)`] : []),
  ];
  if (why.length > 0) {
    const text = `UNREADABLE: ${why.join('; ')}`;
    return {
      protects: null,
      protectsText: text,
      grants,
      found: ours.map(describeResource),
      unreadable: text,
    };
  }
  return {
    protects: ours.length,
    protectsText: String(ours.length),
    grants,
    found: ours.map(describeResource),
    unreadable: null,
  };
}

type Assessed = { readonly kind: 'row'; readonly row: CandidateRow } | { readonly kind: 'aws-managed' };

interface Inventory {
  readonly resources: RegionResources | null;
  readonly aliasesError: string | null;
}

async function assessKey(
  kms: KMSClient,
  entry: KeyListEntry,
  aliasesOfKeys: ReadonlyMap<string, string[]>,
  region: string,
  minIdleDays: number,
  now: Date,
  inventory: Inventory,
): Promise<Assessed> {
  const keyId = entry.KeyId ?? entry.KeyArn ?? '(no key ID)';
  const aliases = aliasesOfKeys.get(keyId) ?? [];
  let metadata: KeyMetadata;
  try {
    const described = await describeKey(kms, entry.KeyArn ?? keyId);
    if (!described) throw new Error('DescribeKey returned no KeyMetadata');
    metadata = described;
  } catch (error) {
    return {
      kind: 'row',
      row: unreadable(keyId, 'DescribeKey', error, { keyArn: entry.KeyArn ?? null, aliases }),
    };
  }
  if (metadata.KeyManager === 'AWS') {
    return { kind: 'aws-managed' };
  }
  const known = { keyArn: metadata.Arn ?? entry.KeyArn ?? null, state: metadata.KeyState ?? null, aliases };
  let usage: UsageAssessment;
  let tags: Record<string, string>;
  try {
    usage = await classifyKeyUsage(kms, metadata.Arn ?? keyId, metadata.CreationDate);
  } catch (error) {
    return { kind: 'row', row: unreadable(keyId, 'GetKeyLastUsage', error, known) };
  }
  try {
    tags = await readTags(kms, metadata.Arn ?? keyId);
  } catch (error) {
    // Without the tags nobody can tell whether another execution holds the key.
    return { kind: 'row', row: unreadable(keyId, 'ListResourceTags', error, known) };
  }
  const facts = keyFactsOf(metadata, {
    keyId,
    keyArn: metadata.Arn ?? keyId,
    account: metadata.AWSAccountId ?? '',
    region,
    aliases,
    tags,
  });
  const request: ExecutionRequest = {
    keyId: facts.keyArn,
    observationDays: 30,
    pendingWindowInDays: 30,
    requestedBy: '',
    reason: '',
    allowExportedPublicKey: false,
  };
  const refusal = findRefusal({
    key: facts,
    usage,
    request,
    config: assessConfig(minIdleDays),
    executionArn: '',
    now,
  });
  const base = {
    keyId,
    keyArn: facts.keyArn,
    state: facts.keyState,
    aliases,
    lastUsedOperation: usage.lastUsage?.operation ?? null,
    lastUsedAt: usage.lastUsage?.timestamp ?? null,
    usage: usage.classification,
    trackingStartDate: usage.trackingStartDate,
    creationDate: usage.keyCreationDate,
  };
  const protection = await protectionOf(kms, facts, inventory.resources, inventory.aliasesError);
  const counts = {
    protects: protection.protects,
    protectsText: protection.protectsText,
    grants: protection.grants,
  };
  if (refusal) {
    return {
      kind: 'row',
      row: {
        ...base,
        verdict: 'REFUSED',
        cause: refusal.cause,
        summary: `${refusal.cause}: ${refusedSummary(refusal, facts, usage, now, minIdleDays)}`,
        reason: refusal.message,
        ...counts,
      },
    };
  }
  if (protection.unreadable) {
    // The workflow would refuse the key (INVENTORY_INCOMPLETE); this report cannot say more either.
    return {
      kind: 'row',
      row: {
        ...base,
        verdict: 'UNREADABLE',
        cause: null,
        summary: 'what the key protects is unknown',
        reason: `The inventory is incomplete, so what the key protects is unknown: ${protection.unreadable}`,
        ...counts,
      },
    };
  }
  if (protection.protects) {
    const first = protection.found.slice(0, 3);
    return {
      kind: 'row',
      row: {
        ...base,
        verdict: 'REFUSED',
        cause: 'PROTECTS_DATA',
        summary: `PROTECTS_DATA: ${protection.protects} resource${protection.protects === 1 ? '' : 's'}`,
        reason:
          `The key encrypts ${protection.protects} resource${protection.protects === 1 ? '' : 's'} whose data becomes ` +
          `unreadable when it is deleted: ${first.join('; ')}${protection.found.length > first.length ? '; ...' : ''}. ` +
          'The workflow refuses it unless acceptDataLoss names exactly these.',
        ...counts,
      },
    };
  }
  const { summary, notes } = acceptedSummary(facts, usage, now);
  return {
    kind: 'row',
    row: {
      ...base,
      verdict: 'ACCEPTED',
      cause: null,
      summary,
      reason: [usage.explanation, ...notes].join(' '),
      ...counts,
    },
  };
}

/** Reads every key of the Region; throws only when the keys themselves cannot be listed. */
export async function buildReport(
  kms: KMSClient,
  region: string,
  minIdleDays: number,
  io: CliIo,
  /** The clients of the inventory; without them (--skip-inventory) no row says what its key protects. */
  inventoryClients?: Omit<InventoryClients, 'kms'>,
): Promise<CandidatesReport> {
  const progress = new Progress(io);
  try {
    const keys = await listAllKeys(kms, progress);
    let aliases = new Map<string, string[]>();
    let aliasesError: string | null = null;
    try {
      aliases = await aliasesByKey(kms);
    } catch (error) {
      aliasesError = `ListAliases: ${describeError(error).message}`;
    }
    // One walk of every service of the Region serves every key; the account comes from a key ARN.
    const someArn = keys.find((key) => key.KeyArn)?.KeyArn;
    let resources: RegionResources | null = null;
    if (inventoryClients && someArn) {
      progress.update('Reading what the keys protect');
      resources = await readRegionResources(inventoryClients, scopeOf(someArn));
    }
    const now = io.now();
    let done = 0;
    const assessed = await mapLimit(keys, CONCURRENCY, async (entry) => {
      const result = await assessKey(kms, entry, aliases, region, minIdleDays, now, {
        resources,
        aliasesError,
      });
      done += 1;
      progress.update(`Reading keys: ${done}/${keys.length}`);
      return result;
    });
    const rows = assessed.flatMap((a) => (a.kind === 'row' ? [a.row] : []));
    return {
      region,
      minIdleDays,
      rows,
      awsManagedSkipped: assessed.length - rows.length,
      aliasesError,
      inventoryRead: inventoryClients !== undefined,
    };
  } finally {
    progress.clear();
  }
}

const CSV_COLUMNS = [
  'keyId',
  'keyArn',
  'state',
  'aliases',
  'lastUsedOperation',
  'lastUsedAt',
  'usage',
  'trackingStartDate',
  'creationDate',
  'verdict',
  'cause',
  'reason',
  'protectsText',
  'grants',
] as const;

/** RFC 4180: a field with a comma, quote, line break or edge whitespace is quoted, quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function toCsv(rows: readonly CandidateRow[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of rows) {
    lines.push(
      CSV_COLUMNS.map((column) => {
        const value = row[column];
        return csvField(Array.isArray(value) ? value.join(' ') : value === null ? '' : String(value));
      }).join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

function footer(report: CandidatesReport): string {
  const count = (v: Verdict) => report.rows.filter((r) => r.verdict === v).length;
  const keys = report.rows.length;
  const skipped = report.awsManagedSkipped;
  return (
    `${keys} customer managed key${keys === 1 ? '' : 's'} in ${report.region}: ${count('ACCEPTED')} accepted, ` +
    `${count('REFUSED')} refused, ${count('UNREADABLE')} unreadable (minIdleDays ${report.minIdleDays}). ` +
    `${skipped} AWS managed key${skipped === 1 ? '' : 's'} skipped.` +
    `${report.aliasesError ? ` Aliases could not be read (${report.aliasesError}).` : ''}` +
    `${report.inventoryRead ? '' : ' What the keys protect was not read (--skip-inventory).'}\n`
  );
}

export function renderTable(report: CandidatesReport): string {
  const table =
    report.rows.length === 0
      ? ''
      : formatTable(
          ['KEY ID', 'STATE', 'LAST USE', 'USAGE', 'ALIASES', 'PROTECTS', 'VERDICT', 'REASON'],
          report.rows.map((r) => [
            r.keyId,
            r.state ?? '-',
            r.lastUsedOperation ? `${r.lastUsedOperation} ${r.lastUsedAt ?? ''}` : '-',
            r.usage ?? '-',
            r.aliases.length ? r.aliases.join(' ') : '-',
            r.protects !== null
              ? String(r.protects)
              : r.protectsText.startsWith('UNREADABLE')
                ? 'UNREADABLE'
                : '-',
            r.verdict,
            r.summary,
          ]),
        );
  return `${table}${table ? '\n' : ''}${footer(report)}Full reasons: --json or --csv.\n`;
}

export function run(argv: readonly string[], io: CliIo): Promise<number> {
  return runParsedCommand(io, argv, CANDIDATES_COMMAND, async (args) => {
    if (args.flag('json') && args.flag('csv')) {
      throw new UsageError(`Choose one of --json and --csv. ${usageHint(CANDIDATES_COMMAND)}`);
    }
    const minIdleDays =
      integerOption(
        'min-idle-days',
        args.string('min-idle-days'),
        MIN_IDLE_DAYS.min,
        MIN_IDLE_DAYS.max,
        'days a key must be unused',
      ) ?? DEFAULT_MIN_IDLE_DAYS;
    const options = awsOptions(args);
    const region = await resolveRegion(options, io);
    const report = await withClients(options, (clients) =>
      buildReport(
        clients.kms(region),
        region,
        minIdleDays,
        io,
        args.flag('skip-inventory') ? undefined : clients.inventory(region),
      ),
    );
    if (args.flag('json')) {
      io.stdout(`${JSON.stringify(report.rows)}\n`);
      io.stderr(footer(report));
    } else if (args.flag('csv')) {
      io.stdout(toCsv(report.rows));
      io.stderr(footer(report));
    } else {
      io.stdout(renderTable(report));
    }
    return EXIT_SUCCESS;
  });
}
