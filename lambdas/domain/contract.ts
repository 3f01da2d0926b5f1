import type * as z from 'zod/mini';
import { describeIssues, safeParseContract } from '../contracts/issues.js';
import { InvalidHandlerEventError } from './errors.js';

/**
 * Checks a handler's event against its schema (lambdas/contracts/events.ts). A malformed event is a
 * workflow bug, never a reason to act: it throws InvalidHandlerEventError `<what>: <first issues>`.
 * The event itself is returned, typed by its contract: the schema checked every field the handler
 * reads, and the rest of each contract object travels on untouched.
 */
export function checkContract<T>(schema: z.ZodMiniType, what: string, event: unknown): T {
  const result = safeParseContract(schema, event);
  if (!result.success) {
    throw new InvalidHandlerEventError(`${what}: ${describeIssues(result.error.issues)}`);
  }
  return event as T;
}
