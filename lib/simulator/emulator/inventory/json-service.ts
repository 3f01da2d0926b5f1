import { ServiceError } from './protocol.js';
import { decodeToken, InvalidTokenError } from './resources.js';

/** What the AWS JSON services share: a JSON object body and their validation texts. */

export const AWS_JSON_1_1 = 'application/x-amz-json-1.1';

/** The request body as an object; anything else is `SerializationException`, as the JSON services answer. */
export function jsonBody(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ServiceError('SerializationException', 'Malformed JSON body');
  }
  return parsed as Record<string, unknown>;
}

/**
 * A page size within [1, max] (`fallback` when absent); outside it the Coral validation text every
 * AWS JSON service answers with ("1 validation error detected: Value '51' at 'maxResults' failed to
 * satisfy constraint: Member must have value less than or equal to 50").
 */
export function pageSize(value: unknown, member: string, max: number, fallback: number): number {
  if (value === undefined || value === null) {
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ServiceError('SerializationException', `Unexpected value for ${member}`);
  }
  if (value < 1 || value > max) {
    const bound = value < 1 ? 'greater than or equal to 1' : `less than or equal to ${max}`;
    throw new ServiceError(
      'ValidationException',
      `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: Member must have value ${bound}`,
    );
  }
  return value;
}

/** The position a token continues at; `invalid` is the service's own error for a token it did not issue. */
export function positionOf(scope: string, token: unknown, invalid: () => ServiceError): number {
  if (token === undefined || token === null || token === '') {
    return 0;
  }
  try {
    const position = Number(decodeToken(scope, String(token)));
    if (Number.isInteger(position) && position >= 0) {
      return position;
    }
  } catch (error) {
    if (!(error instanceof InvalidTokenError)) throw error;
  }
  throw invalid();
}

export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}
