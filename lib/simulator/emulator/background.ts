import { DAY_MS, HOUR_MS } from '../../../lambdas/domain/time.js';
import {
  appClientOf,
  BACKGROUND_KINDS,
  type BackgroundContext,
  type BackgroundKind,
  deterministicUuid,
  type EmulatedRecord,
  eventTimeOf,
  seededRandom,
  type UserIdentity,
  userIdentityFor,
} from './cloudtrail.js';
import type { FamilyMatcher, VaryingField } from './filter-pattern.js';

/**
 * A busy log group's unrelated records, `perDay` of them, that exist only as arithmetic: record `i`
 * happens at `origin + floor(i * DAY / perDay)` and is made from template `i mod TEMPLATES` (kind,
 * caller, key), so a search can count, skip and match a stretch of millions of them without
 * building one. Only the records a search returns (or must test one by one) are generated, each the
 * same every time it is generated. 10^8 a day is a little more than one per millisecond.
 */

/** Templates in one cycle: each kind appears in proportion to its weight, spread by a seeded shuffle. */
export const TEMPLATES = 1000;

/** The trail settings that decide which generated records reach the group (account.ts `delivers`). */
export interface GeneratedDelivery {
  /** No record at or after this instant is delivered (StopLogging). */
  readonly stopMs: number | null;
  /** From this instant on (-Infinity: always), the templates `excluded` names are not delivered. */
  readonly changeMs: number;
  readonly excluded: (record: EmulatedRecord) => boolean;
}

/** A stretch of delivery time [from, to) in which the log group stored nothing (its key was unusable). */
export interface IngestionGap {
  readonly from: number;
  readonly to: number;
}

export interface BackgroundStreamOptions {
  readonly perDay: number;
  /** The first record's instant (ms); rounded up to a whole second. */
  readonly originMs: number;
  /** CloudTrail's delivery delay: record `i` is visible from its instant plus this. */
  readonly lagMs: number;
  readonly seed: number;
  readonly logStreamName: string;
  readonly context: BackgroundContext;
  readonly delivery: GeneratedDelivery;
}

interface Template {
  readonly kind: BackgroundKind;
  readonly principal: string;
  readonly keyArn: string;
  readonly sentKeyId: string;
  readonly errorMessage: string | undefined;
  readonly sourceIp: string;
  readonly userAgent: string;
  /** Not delivered once the trail's selectors changed (a read-only event on a WriteOnly trail, ...). */
  excludedAfterChange: boolean;
  /** Bytes of any record of the template (every differing field has a fixed width). */
  bytes: number;
}

const DAY = BigInt(DAY_MS);

/** Every generated ID starts with this group, which no other ID the emulator makes is likely to share. */
function idPrefix(seed: number): string {
  return deterministicUuid('background-stream', seed).slice(0, 8);
}

export class BackgroundStream {
  readonly logStreamName: string;
  readonly lagMs: number;
  private readonly perDay: bigint;
  private readonly originMs: number;
  private readonly templates: Template[];
  private readonly prefix: string;
  private readonly seed: number;
  private readonly context: BackgroundContext;
  /** Index bounds from the trail settings: no record from `stopIndex` on, the excluded ones from `changeIndex` on. */
  private readonly stopIndex: number;
  private readonly changeIndex: number;
  /** excludedBefore[r]: excluded templates among 0..r-1; excludedBefore[TEMPLATES] is the total. */
  private readonly excludedBefore: Int32Array;
  private readonly identities = new Map<string, UserIdentity>();
  /**
   * When the group stored nothing: records delivered then do not exist. The log group sets them
   * before each use, as its key's history stands then.
   */
  ingestionGaps: readonly IngestionGap[] = [];
  private representatives: EmulatedRecord[] | undefined;
  private readonly families = new Map<string, readonly (boolean | null)[]>();

  constructor(options: BackgroundStreamOptions) {
    if (!Number.isInteger(options.perDay) || options.perDay < 1) {
      throw new RangeError('perDay must be a whole number of at least 1');
    }
    this.perDay = BigInt(options.perDay);
    this.originMs = Math.ceil(options.originMs / 1000) * 1000;
    this.lagMs = options.lagMs;
    this.seed = options.seed;
    this.context = options.context;
    this.logStreamName = options.logStreamName;
    this.prefix = idPrefix(options.seed);
    this.templates = buildTemplates(options.seed, options.context);
    this.stopIndex =
      options.delivery.stopMs === null
        ? Number.POSITIVE_INFINITY
        : this.firstAtOrAfter(options.delivery.stopMs);
    this.changeIndex = this.firstAtOrAfter(options.delivery.changeMs);
    this.excludedBefore = new Int32Array(TEMPLATES + 1);
    for (const [j, template] of this.templates.entries()) {
      const excluded = options.delivery.excluded(this.representative(j));
      template.excludedAfterChange = excluded;
      this.excludedBefore[j + 1] = (this.excludedBefore[j] ?? 0) + (excluded ? 1 : 0);
      template.bytes = Buffer.byteLength(JSON.stringify(this.record(j)));
    }
  }

  /** When record `i` happened (ms). */
  timeOf(index: number): number {
    return this.originMs + Number((BigInt(index) * DAY) / this.perDay);
  }

  /** Its log event timestamp: CloudTrail's eventTime has whole seconds. */
  timestampOf(index: number): number {
    return Math.floor(this.timeOf(index) / 1000) * 1000;
  }

  visibleAtOf(index: number): number {
    return this.timeOf(index) + this.lagMs;
  }

  /** The first index whose instant is at or after `ms` (Infinity for an endless `ms`). */
  firstAtOrAfter(ms: number): number {
    if (ms === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
    const offset = Math.ceil(ms) - this.originMs;
    if (offset <= 0) {
      return 0;
    }
    return Number((BigInt(offset) * this.perDay + DAY - 1n) / DAY);
  }

  /** The first index whose log event timestamp is at or after `ms`. */
  firstTimestampAtOrAfter(ms: number): number {
    return this.firstAtOrAfter(Math.ceil(ms / 1000) * 1000);
  }

  /** The first index not yet delivered at `nowMs` (and none after it is). */
  firstInvisibleAt(nowMs: number): number {
    return Math.min(this.stopIndex, this.firstAtOrAfter(nowMs - this.lagMs + 1));
  }

  templateOf(index: number): number {
    return index % TEMPLATES;
  }

  /** Whether record `i` reached the group at all (the trail's selectors at its instant) and was stored. */
  exists(index: number): boolean {
    if (index >= this.stopIndex) return false;
    if (index >= this.changeIndex && this.templates[this.templateOf(index)]?.excludedAfterChange)
      return false;
    const visibleAt = this.visibleAtOf(index);
    return !this.ingestionGaps.some((gap) => visibleAt >= gap.from && visibleAt < gap.to);
  }

  /** Records in [from, to) that reached the group and were stored. */
  countExisting(from: number, to: number): number {
    let count = this.countDelivered(from, to);
    for (const gap of this.gapIndexes()) {
      count -= this.countDelivered(Math.max(from, gap.from), Math.min(to, gap.to));
    }
    return count;
  }

  /** Records in [from, to) the trail delivered (stored or not). */
  private countDelivered(from: number, to: number): number {
    const hi = Math.min(to, this.stopIndex);
    if (hi <= from) return 0;
    const changed = Math.max(from, Math.min(hi, this.changeIndex));
    return hi - from - (this.excludedUpTo(hi) - this.excludedUpTo(changed));
  }

  /** The ingestion gaps as index ranges: records delivered in [gap.from, gap.to). */
  private gapIndexes(): { from: number; to: number }[] {
    return this.ingestionGaps.map((gap) => ({
      from: this.firstAtOrAfter(gap.from - this.lagMs),
      to: this.firstAtOrAfter(gap.to - this.lagMs),
    }));
  }

  /** The index before which exactly `count` existing records lie from `from` (at most `to`). */
  indexAfterExisting(from: number, count: number, to: number): number {
    let lo = from;
    let hi = to;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.countExisting(from, mid + 1) <= count) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Bytes of the existing records in [from, to). */
  bytesBetween(from: number, to: number): number {
    let bytes = this.bytesDelivered(from, to);
    for (const gap of this.gapIndexes()) {
      bytes -= this.bytesDelivered(Math.max(from, gap.from), Math.min(to, gap.to));
    }
    return bytes;
  }

  private bytesDelivered(from: number, to: number): number {
    let bytes = 0;
    const hi = Math.min(to, this.stopIndex);
    if (hi <= from) return 0;
    for (const [j, template] of this.templates.entries()) {
      const all = countResidue(j, from, hi);
      const dropped = template.excludedAfterChange
        ? countResidue(j, Math.max(from, this.changeIndex), hi)
        : 0;
      bytes += (all - Math.max(0, dropped)) * template.bytes;
    }
    return bytes;
  }

  /**
   * Template `j` as one record; a FamilyMatcher must not rely on the fields that differ between its
   * records (`varyingFields`).
   */
  representative(j: number): EmulatedRecord {
    this.representatives ??= Array.from({ length: TEMPLATES }, (_, t) => this.build(t, t, true));
    return this.representatives[j] as EmulatedRecord;
  }

  /** What a filter pattern says about each template (FamilyMatcher), computed once per pattern. */
  familyStates(pattern: string, compile: (pattern: string) => FamilyMatcher): readonly (boolean | null)[] {
    let states = this.families.get(pattern);
    if (!states) {
      const matcher = compile(pattern);
      states = Array.from({ length: TEMPLATES }, (_, j) => matcher(this.representative(j)));
      if (this.families.size > 100) this.families.clear();
      this.families.set(pattern, states);
    }
    return states;
  }

  /** The fields that differ between records of one template, and what values they can take. */
  varyingFields(): VaryingField[] {
    const uuid = (text: string) =>
      text.startsWith(`${this.prefix}-`) &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(text);
    const time = (text: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text);
    return [
      { path: ['eventID'], couldEqual: uuid },
      { path: ['requestID'], couldEqual: uuid },
      { path: ['eventTime'], couldEqual: time },
      { path: ['userIdentity', 'sessionContext', 'attributes', 'creationDate'], couldEqual: time },
    ];
  }

  /** Record `i`: built anew each time, always the same record. */
  record(index: number): EmulatedRecord {
    return this.build(index, this.templateOf(index), false);
  }

  private excludedUpTo(n: number): number {
    if (!Number.isFinite(n) || n <= 0) return 0;
    const total = this.excludedBefore[TEMPLATES] ?? 0;
    return Math.floor(n / TEMPLATES) * total + (this.excludedBefore[n % TEMPLATES] ?? 0);
  }

  private identityAt(principal: string, at: Date): UserIdentity {
    const cacheKey = `${principal}|${Math.floor(at.getTime() / HOUR_MS)}`;
    let identity = this.identities.get(cacheKey);
    if (!identity) {
      if (this.identities.size > 10_000) this.identities.clear();
      identity = userIdentityFor(principal, this.context.account, at);
      this.identities.set(cacheKey, identity);
    }
    return identity;
  }

  private id(kind: string, index: number): string {
    const uuid = deterministicUuid('background', this.seed, kind, index);
    return `${this.prefix}${uuid.slice(8)}`;
  }

  private build(index: number, j: number, representative: boolean): EmulatedRecord {
    const template = this.templates[j] as Template;
    const { kind } = template;
    const at = new Date(representative ? this.originMs : this.timeOf(index));
    return {
      eventVersion: '1.08',
      userIdentity: this.identityAt(template.principal, at),
      eventTime: eventTimeOf(at),
      eventSource: kind.eventSource,
      eventName: kind.eventName,
      awsRegion: this.context.region,
      sourceIPAddress: template.sourceIp,
      userAgent: template.userAgent,
      ...(kind.errorCode !== undefined && template.errorMessage !== undefined
        ? { errorCode: kind.errorCode, errorMessage: template.errorMessage }
        : {}),
      requestParameters: kind.kms
        ? {
            keyId: template.sentKeyId,
            ...(kind.eventName === 'DescribeKey' ? {} : { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' }),
          }
        : kind.eventName === 'GetRole'
          ? { roleName: template.principal.slice(template.principal.lastIndexOf('/') + 1) }
          : null,
      responseElements: null,
      requestID: this.id('request', index),
      eventID: this.id('event', index),
      readOnly: kind.readOnly,
      ...(kind.kms
        ? { resources: [{ accountId: this.context.account, type: 'AWS::KMS::Key', ARN: template.keyArn }] }
        : {}),
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: this.context.account,
      eventCategory: 'Management',
    };
  }
}

/** How many of [from, to) are congruent to `residue` modulo TEMPLATES. */
export function countResidue(residue: number, from: number, to: number): number {
  if (!Number.isFinite(to)) return Number.POSITIVE_INFINITY;
  if (to <= from) return 0;
  const upTo = (n: number) => (n <= residue ? 0 : Math.floor((n - residue - 1) / TEMPLATES) + 1);
  return upTo(to) - upTo(from);
}

function buildTemplates(seed: number, context: BackgroundContext): Template[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const totalWeight = BACKGROUND_KINDS.reduce((sum, kind) => sum + kind.weight, 0);
  const kinds: BackgroundKind[] = [];
  for (const kind of BACKGROUND_KINDS) {
    const share = Math.round((kind.weight / totalWeight) * TEMPLATES);
    for (let n = 0; n < share && kinds.length < TEMPLATES; n += 1) kinds.push(kind);
  }
  while (kinds.length < TEMPLATES) kinds.push(BACKGROUND_KINDS[0] as BackgroundKind);
  for (let i = kinds.length - 1; i > 0; i -= 1) {
    const k = Math.floor(random() * (i + 1));
    [kinds[i], kinds[k]] = [kinds[k] as BackgroundKind, kinds[i] as BackgroundKind];
  }
  const otherKeys: string[] = [];
  for (let i = 0; otherKeys.length < 40; i += 1) {
    const id = deterministicUuid('background-key', seed, i);
    if (!context.reservedKeyIds.has(id)) otherKeys.push(id);
  }
  const principals = ['app', 'batch', 'etl', 'reporting', 'billing', 'search', 'ci-deployer'].map(
    (role) => `arn:aws:iam::${context.account}:role/${role}`,
  );
  return kinds.map((kind) => {
    const principal = pick(principals);
    const client = appClientOf(principal);
    const keyId = pick(otherKeys);
    const keyArn = `arn:aws:kms:${context.region}:${context.account}:key/${keyId}`;
    const byAlias = kind.kms && random() < 0.2;
    const lookalike =
      context.aliases.length > 0 ? `${pick(context.aliases)}-other` : `alias/${keyId.slice(0, 4)}`;
    const errorMessage =
      kind.errorCode === 'DisabledException'
        ? `${keyArn} is disabled.`
        : kind.errorCode === 'KMSInvalidStateException'
          ? `${keyArn} is pending deletion.`
          : kind.errorCode === 'AccessDeniedException'
            ? `User: ${principal} is not authorized to perform: iam:GetRole`
            : undefined;
    return {
      kind,
      principal,
      keyArn,
      sentKeyId: byAlias ? lookalike : keyId,
      errorMessage,
      sourceIp: kind.eventSource === 'sts.amazonaws.com' ? 'lambda.amazonaws.com' : client.sourceIp,
      userAgent: client.userAgent,
      excludedAfterChange: false,
      bytes: 0,
    };
  });
}
