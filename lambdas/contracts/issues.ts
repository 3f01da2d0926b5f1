import { en } from 'zod/locales';
import type * as z from 'zod/mini';

/**
 * Parsing a contract and saying what broke it. zod/mini ships without messages (that keeps the
 * bundles small), so each parse asks for the English ones itself: no module depends on another
 * having configured zod first.
 */

let english: z.core.$ZodErrorMap | undefined;

/** `schema.safeParse(value)` with English issue messages. */
export function safeParseContract<T extends z.ZodMiniType>(
  schema: T,
  value: unknown,
): z.core.util.SafeParseResult<z.output<T>> {
  english ??= en().localeError;
  return schema.safeParse(value, { error: english });
}

/** `path: message` of the first `max` issues, joined by `; ` (`(event)` for the value as a whole). */
export function describeIssues(issues: readonly z.core.$ZodIssue[], max = 5): string {
  return issues
    .slice(0, max)
    .map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
    .join('; ');
}
