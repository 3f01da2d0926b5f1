import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../bin/cli.js';
import { bufferedIo } from '../../../lib/cli/io.js';
import { resultSchemaErrors } from '../simulator/schemas.js';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const SCENARIO = {
  name: 'cli refused',
  start: '2026-01-01T00:00:00Z',
  keys: [{ keyId: KEY_ID, createdAt: '2024-01-01T00:00:00Z', manager: 'AWS' }],
  input: { keyId: KEY_ID },
};

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kdg-cli-'));
  writeFileSync(join(dir, 'refused.json'), JSON.stringify(SCENARIO));
  writeFileSync(join(dir, 'not-json.json'), '{ "start": ');
  writeFileSync(join(dir, 'no-keys.json'), JSON.stringify({ start: '2026-01-01T00:00:00Z', input: {} }));
  writeFileSync(
    join(dir, 'misspelt.json'),
    JSON.stringify({
      ...SCENARIO,
      keys: [{ ...SCENARIO.keys[0], lastUse: { operation: 'Decrypt', at: '2025-12-01T00:00:00Z' } }],
    }),
  );
  writeFileSync(
    join(dir, 'events-fault.json'),
    JSON.stringify({
      ...SCENARIO,
      faults: [{ service: 'events', operation: '*', error: 'InternalFailure' }],
    }),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('kms-deletion-guard (bin/cli.ts)', () => {
  it('answers an unknown command with one line pointing to --help and exit code 2', async () => {
    // Prepare
    const io = bufferedIo();

    // Act
    const code = await main(['frobnicate'], io);

    // Assess
    expect(code).toBe(2);
    expect(io.err()).toBe(
      "kms-deletion-guard: unknown command 'frobnicate'. Run kms-deletion-guard --help for the commands.\n",
    );
    expect(io.out()).toBe('');
  });
});

describe('simulate command', () => {
  it('prints exactly one JSON object matching the result contract with --json, exit 0', async () => {
    // Prepare
    const io = bufferedIo();

    // Act
    const code = await main(['simulate', join(dir, 'refused.json'), '--json'], io);

    // Assess
    expect(code).toBe(0);
    const lines = io.out().trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0] ?? '');
    expect(result).toMatchObject({ outcome: 'REFUSED', cause: 'AWS_MANAGED_KEY' });
    expect(resultSchemaErrors(result)).toEqual([]);
  });

  it('prints a readable timeline ending with the outcome without --json', async () => {
    // Prepare
    const io = bufferedIo();

    // Act
    const code = await main(['simulate', join(dir, 'refused.json')], io);

    // Assess
    expect(code).toBe(0);
    expect(io.out()).toContain('Scenario: cli refused');
    expect(io.out()).toMatch(/2026-01-01 00:00Z {2}AssessKey +verdict=REFUSED/);
    expect(io.out()).toContain(
      `Outcome: REFUSED (AWS_MANAGED_KEY) — refused before any change; key ${KEY_ID}: Enabled`,
    );
    expect(io.out()).toMatch(/2026-01-01 00:00Z {2}Refused +outcome=REFUSED\n/);
    expect(io.out()).not.toContain('FAILED');
  });

  it.each([
    ['not-json.json', 'not valid JSON'],
    ['no-keys.json', 'keys is required'],
    ['missing.json', 'cannot read the file (ENOENT)'],
  ])('reports a bad scenario file (%s) in one stderr line, exit 1', async (file, expected) => {
    // Prepare
    const io = bufferedIo();

    // Act
    const code = await main(['simulate', join(dir, file)], io);

    // Assess
    expect(code).toBe(1);
    expect(io.out()).toBe('');
    expect(io.err().trimEnd().split('\n')).toHaveLength(1);
    expect(io.err()).toContain(expected);
  });

  it.each([
    ['misspelt.json', 'keys[0].lastUse: unknown field; did you mean lastUsage?'],
    [
      'events-fault.json',
      "faults[0].service: the simulator does not model 'events' faults yet; remove the fault (it injects kms, logs, cloudtrail, sns, sfn, dynamodb, scheduler, ec2, rds, s3, backup, secretsmanager, ssm, elasticfilesystem, config faults)",
    ],
  ])(
    'refuses a field it would otherwise ignore (%s) with exactly one stderr line, exit 1',
    async (file, says) => {
      // Prepare
      const io = bufferedIo();

      // Act
      const code = await main(['simulate', join(dir, file)], io);

      // Assess
      expect(code).toBe(1);
      expect(io.out()).toBe('');
      expect(io.err()).toBe(`kms-deletion-guard simulate: ${join(dir, file)}: ${says}\n`);
    },
  );

  it('rejects a missing file argument or an unknown option as usage errors, exit 2', async () => {
    // Prepare
    const noFile = bufferedIo();
    const badOption = bufferedIo();

    // Act
    const noFileCode = await main(['simulate'], noFile);
    const badOptionCode = await main(['simulate', 'x.json', '--yaml'], badOption);

    // Assess
    expect(noFileCode).toBe(2);
    expect(noFile.err()).toContain('Missing argument. Usage: kms-deletion-guard simulate <scenario.json>');
    expect(badOptionCode).toBe(2);
    expect(badOption.err()).toContain("Unknown option '--yaml'");
  });
});
