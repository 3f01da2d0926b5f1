import { readFileSync } from 'node:fs';
import { GrantOperation } from '@aws-sdk/client-kms';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../lambdas/domain/time.js';
import { nearestName, suggestionDistance } from '../nearest-name.js';
import scenarioSchema from './contracts/scenario.schema.json' with { type: 'json' };
import { invalidIdForm, type ResourceType } from './emulator/inventory/resources.js';

/** A scenario file that cannot be run; the message is one line naming the field and the problem. */
export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

/**
 * A field the scenario format does not have. Refused rather than ignored: a misspelt `lastUsage`
 * ignored would silently turn a used key into a never-used one, and the run would delete it.
 */
export class ScenarioUnknownFieldError extends ScenarioError {
  /** Where the field is, as the other messages name fields: `keys[0].lastUse`. */
  readonly path: string;
  /**
   * The field most likely meant: a name of the same object (`lastUsage`), else a field of another
   * part of the format, by its place (`keys[].lastUsage`); null when none is close.
   */
  readonly suggestion: string | null;

  constructor(path: string, suggestion: string | null, known: readonly string[]) {
    const here = `${path}: unknown field; the fields here are ${known.join(', ')}`;
    const elsewhere = /[.[]/.test(suggestion ?? '') ? suggestion : `top-level ${suggestion}`;
    super(
      suggestion === null
        ? here
        : known.includes(suggestion)
          ? `${path}: unknown field; did you mean ${suggestion}?`
          : `${here}; did you mean ${elsewhere}?`,
    );
    this.name = 'ScenarioUnknownFieldError';
    this.path = path;
    this.suggestion = suggestion;
  }
}

/**
 * A field the scenario format has but the simulator does not model yet. Refused like an unknown
 * one: a field accepted and ignored is a silent wrong answer.
 */
export class ScenarioFieldNotSupportedError extends ScenarioError {
  readonly path: string;

  constructor(path: string, what = 'this field', advice = 'remove it') {
    super(`${path}: the simulator does not model ${what} yet; ${advice}`);
    this.name = 'ScenarioFieldNotSupportedError';
    this.path = path;
  }
}

export type ApprovalAnswer = 'approve' | 'reject' | 'timeout';
export type KeyStateName = 'Enabled' | 'Disabled' | 'PendingDeletion' | 'PendingReplicaDeletion';

export interface ScenarioKey {
  readonly keyId: string;
  readonly createdAt: Date;
  readonly trackingStartDate: Date;
  readonly lastUsage: { readonly operation: string; readonly at: Date } | null;
  readonly state: KeyStateName;
  readonly manager: 'CUSTOMER' | 'AWS';
  readonly aliases: readonly string[];
  readonly tags: Readonly<Record<string, string>>;
  readonly keySpec: string;
  readonly keyUsage: string;
  readonly description: string;
  readonly region: string;
  readonly multiRegion: {
    readonly role: 'PRIMARY' | 'REPLICA';
    readonly replicaRegions: readonly string[];
  } | null;
  /** The resources whose data is encrypted under the key, in the key's Region. */
  readonly protects: readonly ScenarioProtectedResource[];
  readonly grants: readonly ScenarioGrant[];
  /** The key policy document; null: KMS's default policy. */
  readonly keyPolicy: Readonly<Record<string, unknown>> | null;
}

export interface ScenarioProtectedResource {
  readonly type: ResourceType;
  readonly id: string;
  /** Null: the ARN the service forms from the type, ID, account and Region. */
  readonly arn: string | null;
  /** Default: the key's creation. */
  readonly createdAt: Date;
  /** Default: `awsConfig.recording`. */
  readonly recordedByConfig: boolean;
}

export interface ScenarioGrant {
  readonly granteePrincipal: string;
  readonly retiringPrincipal: string | null;
  readonly operations: readonly string[];
  readonly name: string | null;
  /** Default: the key's creation. */
  readonly createdAt: Date;
  readonly encryptionContextSubset: Readonly<Record<string, string>> | null;
}

/** One application call as written in the file; `every`/`until` expand it into a series. */
export interface ScenarioCall {
  readonly index: number;
  readonly at: Date;
  readonly keyId: string;
  readonly operation: string;
  readonly principal: string;
  readonly account: string | null;
  readonly everyMs: number | null;
  /** Null with `every`: the series runs until the simulation ends. */
  readonly until: Date | null;
  readonly deliveryLagMs: number | null;
}

/** One delivered instance of a call series. */
export interface CallInstance {
  readonly call: ScenarioCall;
  readonly at: Date;
  readonly sequence: number;
}

export interface ScenarioCloudTrail {
  readonly deliveryLagMs: number;
  readonly retentionDays: number;
  readonly background: number;
  /** How many log events one FilterLogEvents page examines (the emulator's default when null). */
  readonly filterScanPageSize: number | null;
  readonly eventBridgeLagMs: number;
  readonly eventBridgeDrop: number;
  readonly readWriteType: 'All' | 'WriteOnly';
  readonly excludeKmsEvents: boolean;
  readonly trailChangeAt: Date | null;
  readonly stopLoggingAt: Date | null;
  /** The key (ID, ARN, alias or alias ARN) encrypting the CloudTrail log group; null: none. */
  readonly logGroupKmsKeyId: string | null;
}

/** The services whose faults the simulator injects; the format names more (`events`). */
export const SIMULATED_FAULT_SERVICES = [
  'kms',
  'logs',
  'cloudtrail',
  'sns',
  'sfn',
  'dynamodb',
  'scheduler',
  'ec2',
  'rds',
  's3',
  'backup',
  'secretsmanager',
  'ssm',
  'elasticfilesystem',
  'config',
] as const;
export type SimulatedFaultService = (typeof SIMULATED_FAULT_SERVICES)[number];

export interface ScenarioFault {
  readonly service: SimulatedFaultService;
  readonly operation: string;
  readonly error: string;
  readonly from: Date | null;
  readonly until: Date | null;
  readonly count: number | null;
}

export interface Scenario {
  readonly name: string;
  readonly start: Date;
  readonly account: string;
  readonly region: string;
  readonly keys: readonly ScenarioKey[];
  readonly calls: readonly ScenarioCall[];
  readonly approvals: { readonly disable: ApprovalAnswer; readonly deletion: ApprovalAnswer };
  /** The execution input exactly as written (the workflow validates it, not the simulator). */
  readonly input: unknown;
  /** Stack configuration overrides, merged over the stack's defaults (lib/constructs/config.ts). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly cloudTrail: ScenarioCloudTrail;
  /**
   * AWS Config records the resources of `protects` (each resource's `recordedByConfig` defaults to
   * this). The emulated Config answers no query, so it changes nothing a workflow observes.
   */
  readonly awsConfig: { readonly recording: boolean };
  readonly faults: readonly ScenarioFault[];
  /** The principal the workflow's Lambdas act as: tells canary records from application traffic. */
  readonly workflowPrincipal: string;
}

export const DEFAULT_ACCOUNT = '111122223333';
export const DEFAULT_REGION = 'us-east-1';
/** Refuses series that would take longer to expand than to read (every: PT1S over a year). */
const MAX_CALL_INSTANCES = 2_000_000;

const DURATION = /^P(?!$)(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const OFFSET = /^([+-])(P.*)$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds of an ISO-8601 duration limited to days, hours, minutes and seconds; null if malformed. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  if (!match) {
    return null;
  }
  const [, days, hours, minutes, seconds] = match;
  return (
    Number(days ?? 0) * DAY_MS +
    Number(hours ?? 0) * HOUR_MS +
    Number(minutes ?? 0) * MINUTE_MS +
    Math.round(Number(seconds ?? 0) * 1000)
  );
}

/** An ISO-8601 instant, or a signed offset from `start` (`+P12D`, `-PT6H`); null if neither. */
export function resolveInstant(text: string, start: Date): Date | null {
  const offset = OFFSET.exec(text);
  if (offset) {
    const ms = parseDuration(offset[2] ?? '');
    if (ms === null) {
      return null;
    }
    return new Date(start.getTime() + (offset[1] === '-' ? -ms : ms));
  }
  if (!INSTANT.test(text)) {
    return null;
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms);
}

let compiledValidator: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null | undefined };

function validator(): typeof compiledValidator {
  if (!compiledValidator) {
    // Every error, not the first: an unknown field is reported before what it may have caused
    // (a misspelt required field is also a missing one). `verbose` gives each error its schema,
    // whose `properties` are the fields that could have been meant.
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false });
    addFormats.default(ajv);
    compiledValidator = ajv.compile(scenarioSchema);
  }
  return compiledValidator;
}

/** `keys[0].lastUsage`, `cloudTrail.deliveryLag`; a name that is no identifier is quoted: `keys[0]["a b"]`. */
function pathName(segments: readonly (string | number)[]): string {
  if (segments.length === 0) {
    return 'scenario';
  }
  return segments
    .map((part, i) => {
      if (typeof part === 'number') {
        return `[${part}]`;
      }
      if (!/^[A-Za-z_$][\w$]*$/.test(part)) {
        return `[${JSON.stringify(part)}]`;
      }
      return i === 0 ? part : `.${part}`;
    })
    .join('');
}

/** The segments of a JSON pointer (`/keys/0/lastUsage`); list indexes become numbers. */
function pointerSegments(instancePath: string): (string | number)[] {
  if (!instancePath) {
    return [];
  }
  return instancePath
    .slice(1)
    .split('/')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part.replaceAll('~1', '/').replaceAll('~0', '~')));
}

function fieldName(instancePath: string): string {
  return pathName(pointerSegments(instancePath));
}

interface SchemaNode {
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
}

/** Every field of the format by its place: `keys[].lastUsage`, `cloudTrail.deliveryLag`. */
function fieldsOfFormat(node: SchemaNode, prefix = ''): string[] {
  if (node.items) {
    return fieldsOfFormat(node.items, `${prefix}[]`);
  }
  return Object.entries(node.properties ?? {}).flatMap(([name, child]) => {
    const path = prefix ? `${prefix}.${name}` : name;
    return [path, ...fieldsOfFormat(child, path)];
  });
}

let formatFields: readonly string[] | undefined;

function unknownFieldError(error: ErrorObject): ScenarioUnknownFieldError {
  const name = String((error.params as { additionalProperty?: unknown }).additionalProperty);
  const known = Object.keys((error.parentSchema as SchemaNode | undefined)?.properties ?? {});
  formatFields ??= fieldsOfFormat(scenarioSchema as SchemaNode);
  // A name of another part of the format (`lastUsage` on a call) is a field in the wrong place; a
  // guess there needs a closer match, or any short name would find some short field somewhere.
  const lastSegment = (path: string) => path.slice(path.lastIndexOf('.') + 1);
  const elsewhere = nearestName(name, formatFields.map(lastSegment), Math.floor(name.length / 3));
  const suggestion =
    nearestName(name, known, suggestionDistance(name)) ??
    (elsewhere === undefined ? null : (formatFields.find((path) => lastSegment(path) === elsewhere) ?? null));
  return new ScenarioUnknownFieldError(
    pathName([...pointerSegments(error.instancePath), name]),
    suggestion,
    known,
  );
}

/**
 * Fields of the format the simulator does not model yet, as paths (`*`: every item of a list).
 * Each is refused while it is here; modelling one means reading it in this file and removing it.
 */
const NOT_MODELLED: ReadonlyArray<readonly string[]> = [
  ['runUntil'],
  ['keys', '*', 'origin'],
  ['calls', '*', 'omitKeyId'],
  ['calls', '*', 'invokedBy'],
  ['calls', '*', 'loggedIn'],
  ['calls', '*', 'eventBridge'],
  ['calls', '*', 'eventBridgeLag'],
  ['calls', '*', 'tags'],
  ['calls', '*', 'tagKeys'],
  ['calls', '*', 'alias'],
  ['calls', '*', 'pendingWindowInDays'],
  ['approvals', 'disableAfter'],
  ['approvals', 'deletionAfter'],
  ['cloudTrail', 'backgroundPerDay'],
  ['cloudTrail', 'searchPageLatencyMs'],
  ['cloudTrail', 'searchTps'],
];

/** Every place `path` is present in `value`, as segments. */
function presentAt(
  value: unknown,
  path: readonly string[],
  at: readonly (string | number)[] = [],
): (string | number)[][] {
  const [head, ...rest] = path;
  if (head === undefined) {
    return [[...at]];
  }
  if (head === '*') {
    return Array.isArray(value) ? value.flatMap((item, i) => presentAt(item, rest, [...at, i])) : [];
  }
  const record = asRecord(value);
  return Object.hasOwn(record, head) ? presentAt(record[head], rest, [...at, head]) : [];
}

const FAULT_SERVICES_OF_THE_FORMAT: readonly string[] =
  scenarioSchema.properties.faults.items.properties.service.enum;

function notModelled(data: unknown): ScenarioFieldNotSupportedError | null {
  for (const path of NOT_MODELLED) {
    const [found] = presentAt(data, path);
    if (found) {
      return new ScenarioFieldNotSupportedError(pathName(found));
    }
  }
  const faults = asRecord(data).faults;
  for (const [i, fault] of (Array.isArray(faults) ? faults : []).entries()) {
    const service = asRecord(fault).service;
    if (
      typeof service === 'string' &&
      FAULT_SERVICES_OF_THE_FORMAT.includes(service) &&
      !(SIMULATED_FAULT_SERVICES as readonly string[]).includes(service)
    ) {
      return new ScenarioFieldNotSupportedError(
        `faults[${i}].service`,
        `'${service}' faults`,
        `remove the fault (it injects ${SIMULATED_FAULT_SERVICES.join(', ')} faults)`,
      );
    }
  }
  return null;
}

function describeSchemaError(error: ErrorObject): string {
  const field = fieldName(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `${field === 'scenario' ? '' : `${field}.`}${String(params.missingProperty)} is required`;
    case 'enum':
      return `${field} must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      return `${field} has the wrong form (expected ${field.endsWith('account') ? '12 digits' : 'an ISO-8601 duration such as PT6H or P1D'})`;
    case 'format':
      return `${field} must be an ISO-8601 date-time such as 2026-01-01T00:00:00Z`;
    default:
      return `${field} ${error.message ?? 'is invalid'}`;
  }
}

type Json = Record<string, unknown>;

function asRecord(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

function optionalString(obj: Json, field: string): string | undefined {
  const value = obj[field];
  return typeof value === 'string' ? value : undefined;
}

function instantField(value: string, field: string, start: Date): Date {
  const resolved = resolveInstant(value, start);
  if (!resolved) {
    throw new ScenarioError(
      `${field}: '${value}' is not an ISO-8601 instant (2026-01-01T00:00:00Z) or an offset from start (+P12D, -PT6H)`,
    );
  }
  return resolved;
}

function durationField(value: string, field: string): number {
  const ms = parseDuration(value);
  if (ms === null) {
    throw new ScenarioError(`${field}: '${value}' is not an ISO-8601 duration such as PT6H or P1D`);
  }
  return ms;
}

const DEFAULT_KEY_USAGE: ReadonlyArray<[RegExp, string]> = [
  [/^HMAC_/, 'GENERATE_VERIFY_MAC'],
  [/^(ECC_NIST_|ECC_SECG_|ML_DSA_)/, 'SIGN_VERIFY'],
  [/^SM2$/, 'SIGN_VERIFY'],
];

function defaultKeyUsage(keySpec: string): string {
  for (const [pattern, usage] of DEFAULT_KEY_USAGE) {
    if (pattern.test(keySpec)) {
      return usage;
    }
  }
  return 'ENCRYPT_DECRYPT';
}

const GRANT_OPERATIONS: ReadonlySet<string> = new Set(Object.values(GrantOperation));

function resolveProtects(
  raw: unknown,
  field: string,
  keySpec: string,
  createdAt: Date,
  start: Date,
  recording: boolean,
): ScenarioProtectedResource[] {
  const entries = Array.isArray(raw) ? raw.map(asRecord) : [];
  if (entries.length > 0 && keySpec !== 'SYMMETRIC_DEFAULT') {
    // "Amazon S3 only supports symmetric encryption KMS keys"; CloudWatch Logs, EBS, RDS and the
    // other integrated services likewise encrypt data at rest only under symmetric keys.
    throw new ScenarioError(
      `${field}.protects: AWS services encrypt data at rest only under symmetric encryption keys; this key is ${keySpec}`,
    );
  }
  return entries.map((entry, j) => {
    const type = entry.type as ResourceType;
    const id = String(entry.id);
    const expected = invalidIdForm(type, id);
    if (expected !== null) {
      throw new ScenarioError(
        `${field}.protects[${j}].id: '${id}' is not a ${type} identifier (${expected})`,
      );
    }
    const at = optionalString(entry, 'createdAt');
    return {
      type,
      id,
      arn: optionalString(entry, 'arn') ?? null,
      createdAt: at === undefined ? createdAt : instantField(at, `${field}.protects[${j}].createdAt`, start),
      recordedByConfig: typeof entry.recordedByConfig === 'boolean' ? entry.recordedByConfig : recording,
    };
  });
}

function resolveGrants(raw: unknown, field: string, createdAt: Date, start: Date): ScenarioGrant[] {
  return (Array.isArray(raw) ? raw.map(asRecord) : []).map((grant, j) => {
    const operations = Array.isArray(grant.operations) ? grant.operations.map(String) : [];
    const unknown = operations.find((operation) => !GRANT_OPERATIONS.has(operation));
    if (unknown !== undefined) {
      throw new ScenarioError(
        `${field}.grants[${j}].operations: '${unknown}' is not a grant operation (${[...GRANT_OPERATIONS].join(', ')})`,
      );
    }
    const context = grant.encryptionContextSubset;
    const contextEntries = Object.entries(asRecord(context));
    if (contextEntries.some(([, value]) => typeof value !== 'string')) {
      throw new ScenarioError(`${field}.grants[${j}].encryptionContextSubset: values must be strings`);
    }
    const at = optionalString(grant, 'createdAt');
    return {
      granteePrincipal: String(grant.granteePrincipal),
      retiringPrincipal: optionalString(grant, 'retiringPrincipal') ?? null,
      operations,
      name: optionalString(grant, 'name') ?? null,
      createdAt: at === undefined ? createdAt : instantField(at, `${field}.grants[${j}].createdAt`, start),
      encryptionContextSubset:
        context === undefined ? null : (Object.fromEntries(contextEntries) as Record<string, string>),
    };
  });
}

function resolveKey(raw: Json, i: number, start: Date, region: string, recording = false): ScenarioKey {
  const field = `keys[${i}]`;
  const createdAt = instantField(String(raw.createdAt), `${field}.createdAt`, start);
  const tracking = optionalString(raw, 'trackingStartDate');
  const lastUsageRaw = raw.lastUsage;
  let lastUsage: ScenarioKey['lastUsage'] = null;
  if (lastUsageRaw !== undefined && lastUsageRaw !== null) {
    const usage = asRecord(lastUsageRaw);
    lastUsage = {
      operation: String(usage.operation),
      at: instantField(String(usage.at), `${field}.lastUsage.at`, start),
    };
  }
  const keySpec = optionalString(raw, 'keySpec') ?? 'SYMMETRIC_DEFAULT';
  const multiRegionRaw = raw.multiRegion;
  let multiRegion: ScenarioKey['multiRegion'] = null;
  if (multiRegionRaw !== undefined) {
    const mr = asRecord(multiRegionRaw);
    multiRegion = {
      role: mr.role === 'REPLICA' ? 'REPLICA' : 'PRIMARY',
      replicaRegions: Array.isArray(mr.replicaRegions) ? mr.replicaRegions.map(String) : [],
    };
  }
  return {
    keyId: String(raw.keyId),
    createdAt,
    trackingStartDate: tracking ? instantField(tracking, `${field}.trackingStartDate`, start) : createdAt,
    lastUsage,
    state: (optionalString(raw, 'state') as KeyStateName | undefined) ?? 'Enabled',
    manager: raw.manager === 'AWS' ? 'AWS' : 'CUSTOMER',
    aliases: Array.isArray(raw.aliases) ? raw.aliases.map(String) : [],
    tags: asRecord(raw.tags) as Record<string, string>,
    keySpec,
    keyUsage: optionalString(raw, 'keyUsage') ?? defaultKeyUsage(keySpec),
    description: optionalString(raw, 'description') ?? '',
    region: optionalString(raw, 'region') ?? region,
    multiRegion,
    protects: resolveProtects(raw.protects, field, keySpec, createdAt, start, recording),
    grants: resolveGrants(raw.grants, field, createdAt, start),
    keyPolicy: raw.keyPolicy === undefined ? null : asRecord(raw.keyPolicy),
  };
}

function resolveCall(raw: Json, i: number, start: Date): ScenarioCall {
  const field = `calls[${i}]`;
  const at = instantField(String(raw.at), `${field}.at`, start);
  const every = optionalString(raw, 'every');
  const untilText = optionalString(raw, 'until');
  const lag = optionalString(raw, 'deliveryLag');
  const everyMs = every === undefined ? null : durationField(every, `${field}.every`);
  if (everyMs === 0) {
    throw new ScenarioError(`${field}.every: must be longer than zero`);
  }
  const until = untilText === undefined ? null : instantField(untilText, `${field}.until`, start);
  if (until && until < at) {
    throw new ScenarioError(
      `${field}.until: ${until.toISOString()} is before the call's at (${at.toISOString()})`,
    );
  }
  if (everyMs !== null && until !== null && (until.getTime() - at.getTime()) / everyMs > MAX_CALL_INSTANCES) {
    throw new ScenarioError(
      `${field}.every: the series has more than ${MAX_CALL_INSTANCES} calls; use a longer interval`,
    );
  }
  return {
    index: i,
    at,
    keyId: String(raw.keyId),
    operation: String(raw.operation),
    principal: String(raw.principal),
    account: optionalString(raw, 'account') ?? null,
    everyMs,
    until,
    deliveryLagMs: lag === undefined ? null : durationField(lag, `${field}.deliveryLag`),
  };
}

function resolveCloudTrail(raw: Json, start: Date): ScenarioCloudTrail {
  const duration = (name: string, fallback: number): number => {
    const value = optionalString(raw, name);
    return value === undefined ? fallback : durationField(value, `cloudTrail.${name}`);
  };
  const instant = (name: string): Date | null => {
    const value = optionalString(raw, name);
    return value === undefined ? null : instantField(value, `cloudTrail.${name}`, start);
  };
  return {
    deliveryLagMs: duration('deliveryLag', 5 * MINUTE_MS),
    retentionDays: typeof raw.retentionDays === 'number' ? raw.retentionDays : 365,
    background: typeof raw.background === 'number' ? raw.background : 0,
    filterScanPageSize: typeof raw.filterScanPageSize === 'number' ? raw.filterScanPageSize : null,
    eventBridgeLagMs: duration('eventBridgeLag', 2 * MINUTE_MS),
    eventBridgeDrop: typeof raw.eventBridgeDrop === 'number' ? raw.eventBridgeDrop : 0,
    readWriteType: raw.readWriteType === 'WriteOnly' ? 'WriteOnly' : 'All',
    excludeKmsEvents: raw.excludeKmsEvents === true,
    trailChangeAt: instant('trailChangeAt'),
    stopLoggingAt: instant('stopLoggingAt'),
    logGroupKmsKeyId: optionalString(raw, 'logGroupKmsKeyId') ?? null,
  };
}

function resolveFault(raw: Json, i: number, start: Date): ScenarioFault {
  const field = `faults[${i}]`;
  const from = optionalString(raw, 'from');
  const until = optionalString(raw, 'until');
  return {
    service: raw.service as ScenarioFault['service'],
    operation: String(raw.operation),
    error: String(raw.error),
    from: from === undefined ? null : instantField(from, `${field}.from`, start),
    until: until === undefined ? null : instantField(until, `${field}.until`, start),
    count: typeof raw.count === 'number' ? raw.count : null,
  };
}

/**
 * Validates a parsed scenario against the contract schema and resolves every time to a Date.
 * Unknown fields are refused first (ScenarioUnknownFieldError), then fields the simulator does not
 * model yet (ScenarioFieldNotSupportedError), then any other mismatch (ScenarioError).
 */
export function parseScenario(data: unknown): Scenario {
  const validate = validator();
  const valid = validate(data);
  const errors = validate.errors ?? [];
  const unknown = errors.find((error) => error.keyword === 'additionalProperties');
  if (unknown) {
    throw unknownFieldError(unknown);
  }
  const unsupported = notModelled(data);
  if (unsupported) {
    throw unsupported;
  }
  if (!valid) {
    const first = errors[0];
    throw new ScenarioError(first ? describeSchemaError(first) : 'scenario does not match the schema');
  }
  const raw = data as Json;
  const start = new Date(String(raw.start));
  if (Number.isNaN(start.getTime())) {
    throw new ScenarioError(`start: '${String(raw.start)}' is not an ISO-8601 instant`);
  }
  const account = optionalString(raw, 'account') ?? DEFAULT_ACCOUNT;
  const region = optionalString(raw, 'region') ?? DEFAULT_REGION;
  const recording = asRecord(raw.awsConfig).recording === true;
  const keys = (raw.keys as unknown[]).map((k, i) => resolveKey(asRecord(k), i, start, region, recording));
  const seen = new Set<string>();
  for (const [i, key] of keys.entries()) {
    if (seen.has(key.keyId)) {
      throw new ScenarioError(`keys[${i}].keyId: '${key.keyId}' appears twice`);
    }
    seen.add(key.keyId);
  }
  const resources = new Map<string, string>();
  for (const [i, key] of keys.entries()) {
    for (const [j, resource] of key.protects.entries()) {
      // One resource has one key; S3 bucket names are global, other IDs per Region.
      const name = `${resource.type} ${resource.type === 'AWS::S3::Bucket' ? '' : key.region}/${resource.id}`;
      const first = resources.get(name);
      if (first !== undefined) {
        throw new ScenarioError(
          `keys[${i}].protects[${j}]: ${resource.type} '${resource.id}' is already protected by ${first}`,
        );
      }
      resources.set(name, `keys[${i}].protects[${j}]`);
    }
  }
  const approvals = asRecord(raw.approvals);
  return {
    name: optionalString(raw, 'name') ?? 'unnamed scenario',
    start,
    account,
    region,
    keys,
    calls: (Array.isArray(raw.calls) ? raw.calls : []).map((c, i) => resolveCall(asRecord(c), i, start)),
    approvals: {
      disable: (approvals.disable as ApprovalAnswer | undefined) ?? 'approve',
      deletion: (approvals.deletion as ApprovalAnswer | undefined) ?? 'approve',
    },
    input: raw.input,
    config: asRecord(raw.config),
    cloudTrail: resolveCloudTrail(asRecord(raw.cloudTrail), start),
    awsConfig: { recording },
    faults: (Array.isArray(raw.faults) ? raw.faults : []).map((f, i) => resolveFault(asRecord(f), i, start)),
    workflowPrincipal: `arn:aws:iam::${account}:role/kms-deletion-guard-workflow`,
  };
}

/** Reads and parses a scenario file; an unreadable file or bad JSON is a ScenarioError too (callers name the file). */
export function loadScenarioFile(path: string): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ScenarioError(`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(`not valid JSON (${(error as Error).message})`);
  }
  return parseScenario(data);
}

/**
 * The application calls of a scenario in time order, expanded lazily so a series without `until`
 * runs exactly as long as the simulation does. Ties keep the order of the file.
 */
export class CallSchedule {
  private readonly next: { call: ScenarioCall; at: number; sequence: number }[];

  constructor(calls: readonly ScenarioCall[]) {
    this.next = calls.map((call) => ({ call, at: call.at.getTime(), sequence: 0 }));
  }

  /** Removes and returns every instance due at or before `until`, in time order. */
  takeUntil(until: Date | number): CallInstance[] {
    const limit = typeof until === 'number' ? until : until.getTime();
    const due: CallInstance[] = [];
    for (;;) {
      let best: (typeof this.next)[number] | undefined;
      for (const stream of this.next) {
        if (stream.at <= limit && (!best || stream.at < best.at)) {
          best = stream;
        }
      }
      if (!best) {
        return due;
      }
      due.push({ call: best.call, at: new Date(best.at), sequence: best.sequence });
      const every = best.call.everyMs;
      const nextAt = every === null ? Number.POSITIVE_INFINITY : best.at + every;
      const untilMs = best.call.until?.getTime() ?? Number.POSITIVE_INFINITY;
      best.at = nextAt <= untilMs ? nextAt : Number.POSITIVE_INFINITY;
      best.sequence += 1;
    }
  }

  /** Every instance strictly before `before` (the history already in the log group at start). */
  takeBefore(before: Date): CallInstance[] {
    return this.takeUntil(before.getTime() - 1);
  }
}
