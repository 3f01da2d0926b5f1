import { LambdaCredentialsError } from '../domain/errors.js';

/**
 * The credential provider of the deployed Lambdas. The bundler puts this module in place of
 * `@aws-sdk/credential-provider-node` (lib/constructs/guard-function.ts), whose `defaultProvider`
 * is the only thing the SDK clients import from it.
 *
 * Lambda hands every function its role's credentials in the environment, the first place the
 * SDK's default chain looks. The rest of that chain (shared INI files, SSO, web identity via STS,
 * container and instance metadata) can never answer inside Lambda, yet it is about 130 KB of
 * every bundle and part of every cold start. Reading the same variables the SDK's `fromEnv` reads
 * keeps the behaviour; without them a call fails before it is signed, so nothing runs without
 * the role. Tests and the simulator run the source with the SDK's full chain.
 */

/** The credentials the SDK signs with (`AwsCredentialIdentity` of @smithy/types). */
export interface LambdaCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
  readonly credentialScope?: string;
  readonly accountId?: string;
}

/** Same signature as `defaultProvider` of @aws-sdk/credential-provider-node; the options are not needed. */
export function defaultProvider(_init?: unknown): () => Promise<LambdaCredentials> {
  return async () => {
    const env = process.env;
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new LambdaCredentialsError(
        'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: this bundle reads only the credentials Lambda puts in the environment.',
      );
    }
    const expiry = env.AWS_CREDENTIAL_EXPIRATION;
    return {
      accessKeyId,
      secretAccessKey,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      ...(expiry ? { expiration: new Date(expiry) } : {}),
      ...(env.AWS_CREDENTIAL_SCOPE ? { credentialScope: env.AWS_CREDENTIAL_SCOPE } : {}),
      ...(env.AWS_ACCOUNT_ID ? { accountId: env.AWS_ACCOUNT_ID } : {}),
    };
  };
}
