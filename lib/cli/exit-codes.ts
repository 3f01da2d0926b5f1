/**
 * The exit codes of every kms-deletion-guard command, defined here and nowhere else: `--help`
 * prints this table and the README lists it (a test keeps the two in step). Scripts and CI jobs
 * branch on these numbers, so a command never invents one of its own.
 */
export const EXIT_CODES = {
  success: {
    code: 0,
    meaning: 'success; for simulate and demo: every scenario ran, whatever its outcome',
  },
  failure: {
    code: 1,
    meaning:
      'the command ran and failed: an AWS error, a key or execution not found, a refusal (a running ' +
      'execution, no pending approval), doctor found the trail blind, a scenario file that cannot run',
  },
  usage: {
    code: 2,
    meaning:
      'usage error, nothing was sent to AWS: an unknown command or option, a missing or extra argument, ' +
      'a bad option value, a required setting (state machine, Region, log group) given nowhere',
  },
} as const satisfies Record<string, { readonly code: number; readonly meaning: string }>;

export const EXIT_SUCCESS = EXIT_CODES.success.code;
export const EXIT_FAILURE = EXIT_CODES.failure.code;
export const EXIT_USAGE = EXIT_CODES.usage.code;
