// The same reader the assessment uses, so `doctor` and the approval e-mail can never disagree.
import { readTrailHealth } from '../../lambdas/aws/trail-reader.js';
import { formatFinding, type TrailHealth } from '../../lambdas/domain/trail-health.js';
import { AWS_OPTIONS, type CommandSpec, runParsedCommand } from './args.js';
import { awsOptions, resolveRegion, withClients } from './aws.js';
import { InvalidOptionValueError, UsageError } from './errors.js';
import { EXIT_FAILURE, EXIT_SUCCESS } from './exit-codes.js';
import { type CliIo, printable } from './io.js';

/**
 * `doctor`: would the watch see a failed call on a key? Reads the trail setup that feeds the
 * CloudTrail log group (DescribeTrails, GetEventSelectors, GetTrailStatus) and names each reason it
 * would be blind, one line each with the fix. Exit code 0 when some trail would show failed KMS
 * calls (warnings allowed), 1 when none would. The canary of every run stays the guarantee.
 */

export const DOCTOR_COMMAND: CommandSpec = {
  name: 'doctor',
  description: 'Check that failed calls on keys reach the CloudTrail log group the watch reads.',
  options: {
    'log-group': {
      type: 'string',
      value: 'NAME',
      description: "the stack's CloudTrail log group (cloudTrailLogGroupName); default: KDG_LOG_GROUP",
    },
    ...AWS_OPTIONS,
    'state-machine-arn': {
      ...AWS_OPTIONS['state-machine-arn'],
      description: 'not used by doctor; accepted so one set of options works with every command',
    },
  },
};

const LOG_GROUP = /^[.\-_/#A-Za-z0-9]{1,512}$/;

export class MissingLogGroupError extends UsageError {
  constructor() {
    super(
      'The CloudTrail log group is not known: pass --log-group (the cloudTrailLogGroupName of the stack ' +
        'configuration in cdk.json) or set KDG_LOG_GROUP.',
    );
    this.name = 'MissingLogGroupError';
  }
}

/** The report a person reads: what feeds the group, one line per finding, the verdict. */
export function renderHealth(health: TrailHealth, region: string): string {
  const lines = [
    health.trails.length > 0
      ? `Log group ${health.logGroupName} (${region}) is fed by: ${health.trails.join(', ')}.`
      : `Log group ${health.logGroupName} (${region}) is fed by no trail.`,
  ];
  for (const name of health.seeing) {
    if (!health.findings.some((f) => f.trail === name)) {
      lines.push(
        `OK      trail ${name} logs read and write management events, KMS included, from all Regions, and delivers to the group.`,
      );
    }
  }
  lines.push(...health.findings.map(formatFinding));
  lines.push(
    health.blind
      ? 'Verdict: BLIND. A failed call on a key would not reach this log group; every kms-deletion-guard run would stop at its first canary check (EVENT_SOURCE_BLIND, key restored). Fix the lines above first.'
      : 'Verdict: OK. Failed calls on keys reach this log group; each run still proves it with its own canary.',
  );
  return `${lines.map((line) => printable(line)).join('\n')}\n`;
}

export function run(argv: readonly string[], io: CliIo): Promise<number> {
  return runParsedCommand(io, argv, DOCTOR_COMMAND, async (args) => {
    const logGroupName = args.string('log-group') ?? io.env.KDG_LOG_GROUP;
    if (logGroupName === undefined || logGroupName === '') {
      throw new MissingLogGroupError();
    }
    if (!LOG_GROUP.test(logGroupName)) {
      throw new InvalidOptionValueError(
        'log-group',
        `${JSON.stringify(logGroupName)} is not a CloudWatch Logs log group name.`,
      );
    }
    const options = awsOptions(args);
    const region = await resolveRegion(options, io);
    const health = await withClients(options, (clients) =>
      readTrailHealth(clients.cloudTrail(region), logGroupName, region, io.now()),
    );
    if (args.flag('json')) {
      io.stdout(`${JSON.stringify({ region, ...health })}\n`);
    } else {
      io.stdout(renderHealth(health, region));
    }
    return health.blind ? EXIT_FAILURE : EXIT_SUCCESS;
  });
}
