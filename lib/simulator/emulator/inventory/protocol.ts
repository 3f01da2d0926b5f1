/**
 * The wire shapes the inventory services answer in: the EC2 and RDS Query protocols and S3's REST
 * XML (XML bodies), AWS JSON 1.0/1.1 (`__type`) and REST JSON (`x-amzn-ErrorType`). Each error is
 * shaped where that protocol's SDK deserializer looks for its code, so the SDK throws an error
 * whose `name` is the code:
 * - EC2: `<Response><Errors><Error><Code>` (a real EC2 error body, quoted in aws/aws-cli#1976 and
 *   rusoto/rusoto#355);
 * - RDS (awsQuery): `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>` (as in the
 *   smoke-aws RDS client's decoding test of a real `AccessDenied` body);
 * - S3 (restXml): `<Error><Code/><Message/><RequestId/></Error>` (S3 API reference, "Error responses").
 */

/** One answer of an inventory service, before the router adds the common headers. */
export interface InventoryAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** An AWS-level error inside an inventory service: its code, message and HTTP status. */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** Element text with the five XML entities escaped. */
export function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** A repeated element: `<volumeSet><item>…</item></volumeSet>`, `<Buckets><Bucket>…</Bucket></Buckets>`. */
export class XmlList {
  constructor(
    readonly itemName: string,
    readonly items: readonly XmlContent[],
  ) {}
}

/** Child elements in order; an undefined value leaves its element out. */
export interface XmlElements {
  readonly [name: string]: XmlContent | undefined;
}

export type XmlContent = string | number | boolean | Date | XmlList | XmlElements;

/** Timestamps in XML bodies are ISO 8601 with milliseconds, as EC2, RDS and S3 write them. */
function renderContent(content: XmlContent): string {
  if (content instanceof Date) {
    return content.toISOString();
  }
  if (content instanceof XmlList) {
    return content.items.map((item) => renderXml(content.itemName, item)).join('');
  }
  if (typeof content === 'object') {
    return Object.entries(content)
      .filter((entry): entry is [string, XmlContent] => entry[1] !== undefined)
      .map(([name, value]) => renderXml(name, value))
      .join('');
  }
  return escapeXml(String(content));
}

export function renderXml(name: string, content: XmlContent, namespace?: string): string {
  const xmlns = namespace === undefined ? '' : ` xmlns="${escapeXml(namespace)}"`;
  return `<${name}${xmlns}>${renderContent(content)}</${name}>`;
}

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function xmlAnswer(
  status: number,
  root: string,
  content: XmlContent,
  namespace: string | undefined,
  requestId: string,
  contentType = 'text/xml;charset=UTF-8',
): InventoryAnswer {
  return {
    status,
    contentType,
    body: `${XML_DECLARATION}${renderXml(root, content, namespace)}`,
    headers: { 'x-amzn-RequestId': requestId },
  };
}

export function ec2ErrorAnswer(error: ServiceError, requestId: string): InventoryAnswer {
  return xmlAnswer(
    error.status,
    'Response',
    {
      Errors: { Error: { Code: error.code, Message: error.message } },
      RequestID: requestId,
    },
    undefined,
    requestId,
  );
}

export function queryErrorAnswer(error: ServiceError, namespace: string, requestId: string): InventoryAnswer {
  return xmlAnswer(
    error.status,
    'ErrorResponse',
    {
      Error: {
        Type: error.status >= 500 ? 'Receiver' : 'Sender',
        Code: error.code,
        Message: error.message,
      },
      RequestId: requestId,
    },
    namespace,
    requestId,
  );
}

export function s3ErrorAnswer(
  error: ServiceError,
  requestId: string,
  extra: XmlElements = {},
): InventoryAnswer {
  const answer = xmlAnswer(
    error.status,
    'Error',
    { Code: error.code, Message: error.message, ...extra, RequestId: requestId },
    undefined,
    requestId,
    'application/xml',
  );
  return { ...answer, headers: { ...answer.headers, 'x-amz-request-id': requestId } };
}

export function jsonAnswer(
  status: number,
  body: Readonly<Record<string, unknown>>,
  contentType: string,
  requestId: string,
): InventoryAnswer {
  return { status, contentType, body: JSON.stringify(body), headers: { 'x-amzn-RequestId': requestId } };
}

/** AWS JSON 1.0/1.1: the code in `__type`. */
export function awsJsonErrorAnswer(
  error: ServiceError,
  contentType: string,
  requestId: string,
): InventoryAnswer {
  return {
    ...jsonAnswer(error.status, { __type: error.code, message: error.message }, contentType, requestId),
    headers: { 'x-amzn-RequestId': requestId, 'x-amzn-ErrorType': error.code },
  };
}

/** REST JSON: the code in `x-amzn-ErrorType`, the text in the body. */
export function restJsonErrorAnswer(
  error: ServiceError,
  requestId: string,
  body: Readonly<Record<string, unknown>> = { Message: error.message },
): InventoryAnswer {
  return {
    ...jsonAnswer(error.status, body, 'application/json', requestId),
    headers: { 'x-amzn-RequestId': requestId, 'x-amzn-ErrorType': error.code },
  };
}

/** The services the inventory reads, by the name their SigV4 credential scope (and the scenario's faults) use. */
export type InventoryService =
  | 'ec2'
  | 'rds'
  | 's3'
  | 'backup'
  | 'secretsmanager'
  | 'ssm'
  | 'elasticfilesystem'
  | 'config';

interface FaultPhrasing {
  /** The service's own code for a request its caller may not make. */
  readonly accessDenied: string;
  readonly accessDeniedStatus: number;
  /** The service's own code for a throttled request (the SDK retries it). */
  readonly throttled: string;
  readonly throttledStatus: number;
}

/**
 * How each service says "access denied" and "slow down". A scenario's fault names the error it
 * means; any spelling of those two (`AccessDenied`, `AccessDeniedException`,
 * `UnauthorizedOperation`, `ThrottlingException`, ...) becomes the service's own code, so one fault
 * matrix can deny every service:
 * - EC2: `UnauthorizedOperation` (403) and `RequestLimitExceeded` (503) (EC2 API reference, "Error
 *   codes");
 * - RDS: `AccessDenied` (403) and `Throttling` (400) (the RDS Query errors; `AccessDenied` as the
 *   service sends it for `rds:Describe*`);
 * - S3: `AccessDenied` (403) and `SlowDown` (503) (S3 API reference, "List of error codes");
 * - the JSON services: `AccessDeniedException` and `ThrottlingException`, 400 for the AWS JSON ones
 *   (Secrets Manager, SSM, Config) and 403/429 for the REST ones (Backup, EFS).
 */
const PHRASING: Readonly<Record<InventoryService | 'scheduler', FaultPhrasing>> = {
  ec2: {
    accessDenied: 'UnauthorizedOperation',
    accessDeniedStatus: 403,
    throttled: 'RequestLimitExceeded',
    throttledStatus: 503,
  },
  rds: {
    accessDenied: 'AccessDenied',
    accessDeniedStatus: 403,
    throttled: 'Throttling',
    throttledStatus: 400,
  },
  s3: { accessDenied: 'AccessDenied', accessDeniedStatus: 403, throttled: 'SlowDown', throttledStatus: 503 },
  backup: {
    accessDenied: 'AccessDeniedException',
    accessDeniedStatus: 403,
    throttled: 'ThrottlingException',
    throttledStatus: 429,
  },
  elasticfilesystem: {
    accessDenied: 'AccessDeniedException',
    accessDeniedStatus: 403,
    throttled: 'ThrottlingException',
    throttledStatus: 429,
  },
  scheduler: {
    accessDenied: 'AccessDeniedException',
    accessDeniedStatus: 403,
    throttled: 'ThrottlingException',
    throttledStatus: 429,
  },
  secretsmanager: jsonPhrasing(),
  ssm: jsonPhrasing(),
  config: jsonPhrasing(),
};

function jsonPhrasing(): FaultPhrasing {
  return {
    accessDenied: 'AccessDeniedException',
    accessDeniedStatus: 400,
    throttled: 'ThrottlingException',
    throttledStatus: 400,
  };
}

const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'SlowDown',
  'TooManyRequestsException',
]);

/** The IAM action prefix of each service, for the access-denied message. */
const ACTION_PREFIX: Readonly<Record<InventoryService | 'scheduler', string>> = {
  ec2: 'ec2',
  rds: 'rds',
  s3: 's3',
  backup: 'backup',
  elasticfilesystem: 'elasticfilesystem',
  scheduler: 'scheduler',
  secretsmanager: 'secretsmanager',
  ssm: 'ssm',
  config: 'config',
};

/** S3 checks permissions named differently from its operations. */
const S3_ACTIONS: Readonly<Record<string, string>> = {
  ListBuckets: 'ListAllMyBuckets',
  GetBucketEncryption: 'GetEncryptionConfiguration',
};

/** An injected fault as `service` phrases it. */
export function injectedFault(
  service: InventoryService | 'scheduler',
  error: string,
  operation: string,
  principalArn: string,
): ServiceError {
  const phrasing = PHRASING[service];
  if (ACCESS_DENIED.has(error)) {
    const action = `${ACTION_PREFIX[service]}:${service === 's3' ? (S3_ACTIONS[operation] ?? operation) : operation}`;
    const denial = `User: ${principalArn} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`;
    return new ServiceError(
      phrasing.accessDenied,
      service === 'ec2' ? `You are not authorized to perform this operation. ${denial}` : denial,
      phrasing.accessDeniedStatus,
    );
  }
  if (THROTTLED.has(error)) {
    return new ServiceError(phrasing.throttled, 'Rate exceeded', phrasing.throttledStatus);
  }
  const status = /Internal|ServiceFailure/.test(error) ? 500 : /Unavailable/.test(error) ? 503 : 400;
  return new ServiceError(error, `${error} (injected by the simulator)`, status);
}
