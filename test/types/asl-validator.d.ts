// asl-validator ships no type declarations; this is the part of its API the tests use.
declare module 'asl-validator' {
  interface AslValidationResult {
    readonly isValid: boolean;
    readonly errors: readonly { readonly message?: string; readonly [key: string]: unknown }[];
  }
  export default function validator(
    definition: object,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): AslValidationResult;
}
