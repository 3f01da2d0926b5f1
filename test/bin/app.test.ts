import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly outdir: readonly string[];
}

/**
 * Runs the app as `cdk synth` does: the CLI hands the app its context (cdk.json's and every `-c`)
 * in CDK_CONTEXT_JSON and the output folder in CDK_OUTDIR, which is all aws-cdk-lib's App reads.
 */
async function runApp(context: Record<string, unknown>): Promise<Run> {
  const outdir = mkdtempSync(path.join(tmpdir(), 'kdg-app-'));
  try {
    const env = { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir };
    try {
      const { stdout, stderr } = await promisify(execFile)(TSX, ['bin/app.ts'], { cwd: ROOT, env });
      return { code: 0, stdout, stderr, outdir: readdirSync(outdir) };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr, outdir: readdirSync(outdir) };
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const CDK_JSON = {
  'kms-deletion-guard:config': { cloudTrailLogGroupName: 'aws-cloudtrail-logs' },
  '@aws-cdk/core:checkSecretUsage': true,
  'aws:cdk:enable-path-metadata': true,
};

describe('bin/app.ts', () => {
  it('prints a bad value given with -c as one line naming it, no stack trace, and exits 1', async () => {
    // Act
    const run = await runApp({ ...CDK_JSON, observationDays: 'thirty' });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'Error: observationDays must be a whole number of days from 1 to 355; received "thirty".\n',
    );
    expect(run.stdout).toBe('');
    expect(run.outdir).toEqual([]);
  });

  it('prints a misspelt -c key as one line with the field it was meant to be', async () => {
    // Act
    const run = await runApp({ ...CDK_JSON, obsrvationDays: '45' });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^Error: Unknown context key "obsrvationDays" \(from -c or the context of cdk\.json\)\. Did you mean "observationDays"\? [^\n]*\n$/,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
