import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Charset, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type FunctionEnvironments, HANDLER_VARIABLE } from '../../lambdas/contracts/environment.js';
import { LAMBDAS_DIR, moduleFile } from '../package-files.js';
import { acknowledgeWildcards } from './nag-acknowledgements.js';

/**
 * Modules of the SDK that the deployed bundles replace with smaller ones of `lambdas/aws/`, each of which
 * says why the part it stands for never runs inside these Lambdas. Tests and the simulator run the
 * source with the SDK's own modules; test/lambdas/aws/bundle.test.ts sends through bundled clients.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  // The SDK's full default credential chain is ~130 KB of every bundle; Lambda answers from the environment.
  '@aws-sdk/credential-provider-node': moduleFile(path.join(LAMBDAS_DIR, 'aws'), 'lambda-credentials'),
  // ~19 KB of every bundle; no command the handlers send has an event stream.
  '@smithy/core/event-streams': moduleFile(path.join(LAMBDAS_DIR, 'aws'), 'no-event-streams'),
};

/** The handler folders under `lambdas/`: every Lambda of the stack runs one of them. */
export const HANDLER_NAMES = [
  'assess',
  'inventory',
  'disable',
  'check',
  'schedule-deletion',
  'restore',
  'request-approval',
  'approval',
  'fast-path',
  'alarm-relay',
  'sweep',
  'deliveries',
  'delivery-proof',
] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

/**
 * The settings a handler reads at run time (ARNs of the stack's own resources), typed by the schema
 * the handler reads them with (lambdas/contracts/environment.ts): required when the handler needs
 * them, absent for a handler that reads none.
 */
type EnvironmentProps<H extends HandlerName> = H extends keyof FunctionEnvironments
  ? Partial<FunctionEnvironments[H]> extends FunctionEnvironments[H]
    ? { readonly environment?: FunctionEnvironments[H] }
    : { readonly environment: FunctionEnvironments[H] }
  : { readonly environment?: undefined };

export type GuardFunctionProps<H extends HandlerName = HandlerName> = GuardFunctionCommonProps<H> &
  EnvironmentProps<H>;

interface GuardFunctionCommonProps<H extends HandlerName> {
  /** Folder under `lambdas/` whose `index.ts` exports `handler`. */
  readonly handler: H;
  /** What the function does, shown in the console. */
  readonly description: string;
  /**
   * The exact IAM statements the handler's code needs; nothing else is granted. Grants added after
   * creation (GuardGrants, `grantPublish`) are the other way to give them.
   * @default none
   */
  readonly statements?: readonly iam.PolicyStatement[];
  /**
   * Function timeout.
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Concurrent executions reserved for (and limiting) the function: 1 for work that must never run
   * twice at once.
   * @default none (the account's unreserved pool)
   */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * One Lambda of the stack with the project's defaults: Node.js 22 on arm64, bundled with the local
 * esbuild (never Docker), minified with source maps, and the AWS SDK bundled in, because the
 * runtime's built-in SDK may predate `GetKeyLastUsage` (client-kms 3.1038.0). It acknowledges the
 * cdk-nag findings every such function raises (X-Ray's wildcard, the latest-runtime rule); a wildcard
 * granted to it later must be acknowledged by whoever grants it.
 */
export class GuardFunction<H extends HandlerName = HandlerName> extends Construct {
  public readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: GuardFunctionProps<H>) {
    super(scope, id);

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
    });

    // The managed AWSLambdaBasicExecutionRole would grant logs:CreateLogGroup on *; this role gets
    // only what the handler calls plus writing to its own log group.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `kms-deletion-guard ${props.handler} handler`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        resources: ['*'],
      }),
    );
    for (const statement of props.statements ?? []) {
      role.addToPolicy(statement);
    }

    this.function = new NodejsFunction(this, 'Function', {
      entry: moduleFile(path.join(LAMBDAS_DIR, props.handler), 'index'),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(1),
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        // Read by the simulator to map a function of the template to its handler folder.
        [HANDLER_VARIABLE]: props.handler,
        POWERTOOLS_SERVICE_NAME: 'kms-deletion-guard',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        minify: true,
        sourceMap: true,
        // Stack traces still map to file and line; the map stays a third of the size, which is
        // what `--enable-source-maps` parses at every cold start.
        sourcesContent: false,
        // Non-ASCII text (zod's messages) as UTF-8 instead of \u escapes.
        charset: Charset.UTF8,
        esbuildArgs: {
          '--alias': Object.entries(BUNDLE_ALIASES).map(([module, file]) => `${module}=${file}`),
        },
        target: 'node22',
        format: OutputFormat.ESM,
        bundleAwsSDK: true,
        externalModules: [],
        mainFields: ['module', 'main'],
        // ESM bundles need a require shim for the few CommonJS dependencies of the SDK.
        banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
        forceDockerBundling: false,
      },
    });

    acknowledgeWildcards(this, [
      {
        resource: '*',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
      },
    ]);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'The handlers target Node.js 22, the runtime this project builds, tests and bundles for.',
    });
  }
}
