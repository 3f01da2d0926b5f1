import type * as z from 'zod/mini';
import { EnvironmentError } from '../domain/errors.js';

/**
 * The one place a function reads the settings the template gave it (lambdas/contracts/environment.ts
 * has a schema per function). All of a function's settings are read and checked together, and a
 * missing or unusable one fails with a named error that lists every variable at fault.
 */

export type Environment = Readonly<Record<string, string | undefined>>;

/** The function's settings, or null when any is missing or unusable. */
export function settingsIn<T extends z.ZodMiniType>(
  schema: T,
  env: Environment = process.env,
): z.output<T> | null {
  const parsed = schema.safeParse(env);
  return parsed.success ? parsed.data : null;
}

/** The function's settings; throws `fail(variables at fault)` (EnvironmentError unless given) otherwise. */
export function readEnvironment<T extends z.ZodMiniType>(
  schema: T,
  fail: new (variables: readonly string[]) => Error = EnvironmentError,
  env: Environment = process.env,
): z.output<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new fail([...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))]);
  }
  return parsed.data;
}
