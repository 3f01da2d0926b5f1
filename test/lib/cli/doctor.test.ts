import { main } from '../../../bin/cli.js';
import { run } from '../../../lib/cli/doctor.js';
import { bufferedIo } from '../../../lib/cli/io.js';
import { EmulatedAccount } from '../../../lib/simulator/emulator/account.js';
import type { TrailSetup } from '../../../lib/simulator/emulator/trail.js';
import { useEmulatorServer } from './emulated.js';

/**
 * `doctor` with the real CloudTrail client against the emulated account over HTTP (the SDK's
 * AWS_ENDPOINT_URL_CLOUDTRAIL): a healthy and a blind trail.
 */

const REGION = 'eu-west-1';
const ACCOUNT = '111122223333';
const GROUP = 'aws-cloudtrail-logs';

function account(trail: TrailSetup = {}): EmulatedAccount {
  // The real clock: the SDK and the emulator must agree on the time (see candidates-emulated.test.ts).
  return new EmulatedAccount({
    account: ACCOUNT,
    region: REGION,
    workflowPrincipalArn: `arn:aws:iam::${ACCOUNT}:role/cli-user`,
    clock: () => new Date(),
    cloudTrail: { deliveryLagMs: 300_000, retentionDays: 90, logGroupName: GROUP, trail },
  });
}

function io() {
  return bufferedIo({ env: { AWS_REGION: REGION } });
}

describe('doctor against the emulated account', () => {
  const server = useEmulatorServer('AWS_ENDPOINT_URL_CLOUDTRAIL');

  afterEach(() => {
    server().setAccount(null);
  });

  it('says OK for a healthy trail and exits 0', async () => {
    // Prepare
    server().setAccount(account());
    const out = io();

    // Act
    const code = await run(['--log-group', GROUP], out);

    // Assess
    expect(out.err()).toBe('');
    expect(code).toBe(0);
    expect(out.out()).toContain(`Log group ${GROUP} (${REGION}) is fed by: management-events.`);
    expect(out.out()).toContain('OK      trail management-events logs read and write management events');
    expect(out.out()).toContain('Verdict: OK.');
  });

  it('names each reason a trail is blind, one line each with the fix, and exits 1', async () => {
    // Prepare
    server().setAccount(
      account({
        readWriteType: 'WriteOnly',
        excludeKmsEvents: true,
        stopLoggingAt: new Date(Date.now() - 3_600_000),
      }),
    );
    const out = io();

    // Act
    const code = await run(['--log-group', GROUP, '--region', REGION], out);

    // Assess
    expect(code).toBe(1);
    const lines = out.out().trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('BLIND'))).toEqual([
      expect.stringMatching(
        /^BLIND {3}trail management-events logs write events only.* Fix: log read and write/,
      ),
      expect.stringMatching(/^BLIND {3}trail management-events excludes KMS events .* Fix: stop excluding/),
      expect.stringMatching(
        /^BLIND {3}trail management-events is not logging since .* Fix: aws cloudtrail start-logging/,
      ),
    ]);
    expect(lines.at(-1)).toMatch(/^Verdict: BLIND\./);
  });

  it('says no trail feeds a log group nobody delivers to', async () => {
    // Prepare
    server().setAccount(account());
    const out = io();

    // Act
    const code = await main(['doctor', '--log-group', 'some-other-group'], out);

    // Assess
    expect(code).toBe(1);
    expect(out.out()).toContain('is fed by no trail');
    expect(out.out()).toContain(
      'no trail delivers to log group some-other-group in eu-west-1 (trails seen: management-events)',
    );
  });

  it('prints the analysis as JSON with --json', async () => {
    // Prepare
    server().setAccount(account({ excludeKmsEvents: true }));
    const out = io();

    // Act
    const code = await run(['--log-group', GROUP, '--json'], out);

    // Assess
    expect(code).toBe(1);
    const parsed = JSON.parse(out.out()) as { blind: boolean; region: string; findings: { code: string }[] };
    expect(parsed).toMatchObject({ blind: true, region: REGION, logGroupName: GROUP });
    expect(parsed.findings.map((f) => f.code)).toEqual(['KMS_EVENTS_EXCLUDED']);
  });

  it('reports an AWS error on one line and exits 1', async () => {
    // Prepare
    const emulated = account();
    emulated.addFault({
      service: 'cloudtrail',
      operation: 'DescribeTrails',
      error: 'AccessDeniedException',
      from: new Date(0),
      until: new Date(8.64e15),
    });
    server().setAccount(emulated);
    const out = io();

    // Act
    const code = await run(['--log-group', GROUP], out);

    // Assess
    expect(code).toBe(1);
    expect(out.err()).toMatch(/^kms-deletion-guard: AccessDeniedException: .*cloudtrail:DescribeTrails.*\n$/);
  });

  it('asks for the log group when none is given', async () => {
    // Act
    const out = io();
    const code = await run([], out);

    // Assess
    expect(code).toBe(2);
    expect(out.err()).toContain('pass --log-group');
  });
});
