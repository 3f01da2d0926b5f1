import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RESOURCE_TYPES, type ResourceType } from '../../lambdas/domain/inventory.js';
import { loadScenarioFile } from '../../lib/simulator/scenario.js';
import { type SimulateOptions, simulate } from '../../lib/simulator/simulate.js';
import { resultSchemaErrors, scenarioSchemaErrors } from '../lib/simulator/schemas.js';

/**
 * What the key protects, end to end: the bundled inventory scenarios (test/scenarios/inventory-*.json)
 * run through the synthesized workflow, the real handlers and SDK clients, against the emulated
 * account whose services answer from `keys[].protects`. Each scenario has decoys: keys whose IDs and
 * aliases start like the retired key's, protecting resources of every kind.
 */

const SCENARIOS = join(import.meta.dirname, '..', 'scenarios', 'inventory');
const KEY_ID = '6789f012-67f0-8912-ab34-67890abcdef0';

/** Runs the scenario, holding its file and its result to the shared contracts (these scenarios are not in the demo's run). */
async function run(name: string, options: SimulateOptions = {}) {
  const file = join(SCENARIOS, `${name}.json`);
  expect(scenarioSchemaErrors(JSON.parse(readFileSync(file, 'utf8')))).toEqual([]);
  const result = await simulate(loadScenarioFile(file), options);
  expect(resultSchemaErrors(result)).toEqual([]);
  return result;
}

type Result = Awaited<ReturnType<typeof run>>;

function states(result: Result): string[] {
  return result.timeline.map((t) => t.state);
}

/** Every e-mail of the run as text (subject and message), to look for what it names. */
function mail(result: Result): string {
  return JSON.stringify(result.notifications);
}

/** A refusal of the first inventory: REFUSED with `cause`, no approval asked, the key never touched. */
function expectRefusedUnchanged(result: Result, cause: string): void {
  expect(result.outcome).toBe('REFUSED');
  expect(result.cause).toBe(cause);
  expect(result.key.finalState).toBe('Enabled');
  expect(states(result)).toContain('TakeInventory');
  expect(states(result)).not.toContain('RequestDisableApproval');
  expect(states(result)).not.toContain('DisableKey');
  expect(result.notifications.map((n) => n.kind)).toEqual(['refused']);
}

/** Nothing of the decoys is ever named as this key's. */
function expectNoDecoy(result: Result): void {
  for (const decoy of [
    'snap-0f1e2d3c4b5a69788',
    'legacy-archive-v2',
    'api-token-v2',
    'legacy-archive-index-v2',
    'billing-before-migration',
    'legacy/db-password',
    'fs-0123abcd',
  ]) {
    expect(mail(result)).not.toContain(decoy);
  }
}

describe('inventory scenarios, end to end', () => {
  it.each([
    [
      'inventory-protects-snapshot',
      'AWS::EC2::Snapshot arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60718',
    ],
    ['inventory-protects-bucket', 'AWS::S3::Bucket arn:aws:s3:::yearly-archive-2025'],
    [
      'inventory-protects-secret',
      'AWS::SecretsManager::Secret arn:aws:secretsmanager:us-east-1:111122223333:secret:billing/quarterly-export-',
    ],
    [
      'inventory-protects-table',
      'AWS::DynamoDB::Table arn:aws:dynamodb:us-east-1:111122223333:table/orders-archive',
    ],
  ])('%s: refused PROTECTS_DATA before anything changes, the resource named', async (name, named) => {
    // Act
    const result = await run(name);

    // Assess
    expectRefusedUnchanged(result, 'PROTECTS_DATA');
    expect(mail(result)).toContain(named);
    expectNoDecoy(result);
  });

  it('refuses INVENTORY_INCOMPLETE when a read is denied, naming the service, the call and the error', async () => {
    // Act
    const result = await run('inventory-read-denied');

    // Assess
    expectRefusedUnchanged(result, 'INVENTORY_INCOMPLETE');
    expect(mail(result)).toMatch(/ec2 DescribeSnapshots: \w+/);
  });

  it('refuses a key that encrypts the CloudTrail log group the watch reads', async () => {
    // Act
    const result = await run('inventory-watched-log-group');

    // Assess
    expectRefusedUnchanged(result, 'ENCRYPTS_WATCH_SOURCE');
    expect(mail(result)).toContain('log group');
  });

  it('deletes a key whose acceptDataLoss names exactly what it protects, saying what becomes unreadable', async () => {
    // Prepare
    let tags: Readonly<Record<string, string>> = {};

    // Act
    const result = await run('inventory-accept-data-loss', {
      inspect: (account) => {
        tags = account.inspectKey(KEY_ID)?.tags ?? {};
      },
    });

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    // The execution guards the key until its deletion date, when KMS deletes it.
    expect(result.key.finalState).toBe('Deleted');
    const approvals = result.notifications.filter((n) => n.kind === 'approval-request');
    expect(approvals).toHaveLength(2);
    for (const approval of approvals) {
      const text = JSON.stringify(approval);
      expect(text).toContain('WILL BECOME UNREADABLE');
      expect(text).toContain('arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60718');
      expect(text).toContain('arn:aws:s3:::yearly-archive-2025');
    }
    const order = states(result);
    expect(order.indexOf('RequestDeletionApproval')).toBeLessThan(
      order.indexOf('TakeInventoryBeforeDeletion'),
    );
    expect(order.indexOf('TakeInventoryBeforeDeletion')).toBeLessThan(order.indexOf('ScheduleDeletion'));
    expectNoDecoy(result);
    // The key's own record says what its deletion makes unreadable.
    expect(tags['kms-deletion-guard:data-loss-accepted']).toBe(
      '2 resources: arn:aws:ec2:us-east-1::snapshot/snap-0a1b2c3d4e5f60718 arn:aws:s3:::yearly-archive-2025',
    );
  });

  it('refuses acceptDataLoss that names less than the key protects, naming what it left out', async () => {
    // Act
    const result = await run('inventory-accept-data-loss-less');

    // Assess
    expectRefusedUnchanged(result, 'PROTECTS_DATA');
    expect(mail(result)).toContain('acceptDataLoss does not name 1 of them');
    expect(mail(result)).toContain('arn:aws:s3:::yearly-archive-2025');
  });

  it('deletes as before a key with only decoys around it', async () => {
    // Act
    const result = await run('inventory-decoys-only');

    // Assess
    expect(result.outcome).toBe('DELETION_SCHEDULED');
    // The execution guards the key until its deletion date, when KMS deletes it.
    expect(result.key.finalState).toBe('Deleted');
    expect(mail(result)).toContain('Resources encrypted under the key: none found.');
    expectNoDecoy(result);
  });

  it('gives the key back and ends REFUSED when the inventory before the deletion cannot read', async () => {
    // Act
    const result = await run('inventory-second-read-denied');

    // Assess
    expect(result.outcome).toBe('REFUSED');
    expect(result.cause).toBe('INVENTORY_INCOMPLETE');
    expect(result.key.finalState).toBe('Enabled');
    expect(result.key.restoredAt).not.toBeNull();
    expect(result.key.deletionDate).toBeNull();
    const order = states(result);
    expect(order).toContain('DisableKey');
    expect(order).toContain('RestoreAfterInventory');
    expect(order).not.toContain('ScheduleDeletion');
    expect(result.notifications.at(-1)?.kind).toBe('refused');
    expect(mail(result)).toMatch(/rds DescribeDBSnapshots: \w+/);
    expect(KEY_ID).toBe(result.key.keyId);
  });

  describe('every inventoried type, as a scenario writes it', () => {
    /** A resource ID of the form each service accepts. */
    const ID: Record<ResourceType, string> = {
      'AWS::EC2::Volume': 'vol-0a1b2c3d4e5f60718',
      'AWS::EC2::Snapshot': 'snap-0a1b2c3d4e5f60718',
      'AWS::RDS::DBInstance': 'billing-db',
      'AWS::RDS::DBCluster': 'billing-cluster',
      'AWS::RDS::DBSnapshot': 'billing-db-final',
      'AWS::RDS::DBClusterSnapshot': 'billing-cluster-final',
      'AWS::S3::Bucket': 'yearly-archive-2025',
      'AWS::Backup::RecoveryPoint': '3f1c2a4e-0000-4000-8000-00000000bb02',
      'AWS::SecretsManager::Secret': 'billing/quarterly-export',
      'AWS::SSM::Parameter': '/billing/export-token',
      'AWS::DynamoDB::Table': 'orders-archive',
      'AWS::EFS::FileSystem': 'fs-0a1b2c3d',
      'AWS::Logs::LogGroup': '/archive/app-logs',
      'AWS::CloudTrail::Trail': 'archive-trail',
    };

    /** The decoys-only scenario, as its file writes it, with the retired key protecting one resource. */
    function scenarioProtecting(type: ResourceType, id: string): unknown {
      const raw = JSON.parse(readFileSync(join(SCENARIOS, 'inventory-decoys-only.json'), 'utf8')) as {
        keys: Record<string, unknown>[];
      };
      const [retired, ...decoys] = raw.keys;
      return {
        ...raw,
        keys: [{ ...retired, protects: [{ type, id, createdAt: '2025-01-01T00:00:00Z' }] }, ...decoys],
      };
    }

    it.each(RESOURCE_TYPES)(
      'refuses PROTECTS_DATA for a key that protects one %s, naming it',
      async (type) => {
        // Act
        const result = await simulate(scenarioProtecting(type, ID[type]));

        // Assess
        expectRefusedUnchanged(result, 'PROTECTS_DATA');
        expect(mail(result)).toContain(`${type} arn:aws:`);
        expect(mail(result)).toContain(ID[type].replace(/^\//, ''));
        expectNoDecoy(result);
      },
    );

    it('refuses ENCRYPTS_WATCH_SOURCE for a key that encrypts the trail feeding the watched log group', async () => {
      // Act
      const result = await simulate(scenarioProtecting('AWS::CloudTrail::Trail', 'management-events'));

      // Assess
      expectRefusedUnchanged(result, 'ENCRYPTS_WATCH_SOURCE');
      expect(mail(result)).toContain('trail/management-events');
    });
  });
});
