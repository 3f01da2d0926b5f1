import type { InventoryAnswer, ServiceError } from './protocol.js';
import type { InventoryWorld } from './resources.js';

/** One request to an inventory service, as the router hands it over. */
export interface InventoryRequest {
  readonly method: string;
  /** The path as sent (percent-encoded). */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
  /** The caller's Region (SigV4 credential scope): each service answers for its own Region. */
  readonly region: string;
  readonly requestId: string;
  readonly now: Date;
}

/** What the router needs of each emulated inventory service. */
export interface InventoryServiceHandler {
  /** The API operation a request names (`DescribeVolumes`), for faults and counting. */
  operationOf(request: InventoryRequest): string;
  serve(world: InventoryWorld, request: InventoryRequest): InventoryAnswer;
  /** An error as this service's protocol carries it. */
  errorAnswer(error: ServiceError, request: InventoryRequest): InventoryAnswer;
}

/** Integer request parameter (Query protocol text or JSON number); NaN when not an integer. */
export function integerParameter(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') {
    return undefined;
  }
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isInteger(number) ? number : Number.NaN;
}
