import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

/**
 * The package as a platform team gets it: `npm pack`, then the tarball installed into an empty
 * project beside `aws-cdk-lib` and `constructs` (its peer dependencies). What they do first must
 * work: a typed import of the construct, a synth that bundles every Lambda from the installed files,
 * and the CLI. Installs come from the npm cache that `npm ci` filled (`--prefer-offline`).
 */
const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
const TSC = path.join(ROOT, 'node_modules', '.bin', 'tsc');
const SLOW = 600_000;

function installedVersion(name: string): string {
  return (
    JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
}

let work: string;
let consumer: string;
let cli: string;

describe('the packed package', () => {
  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'kdg-pack-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as { filename: string }[];
    if (!packed) throw new Error(`npm pack wrote no tarball: ${stdout}`);
    consumer = path.join(work, 'consumer');
    mkdirSync(consumer);
    writeFileSync(
      path.join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }),
    );
    await run(
      'npm',
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        path.join(work, packed.filename),
        `aws-cdk-lib@${installedVersion('aws-cdk-lib')}`,
        `constructs@${installedVersion('constructs')}`,
      ],
      { cwd: consumer, maxBuffer: 64 * 1024 * 1024 },
    );
    cli = path.join(consumer, 'node_modules', '.bin', 'kms-deletion-guard');
  }, SLOW);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships compiled JavaScript and declarations, not the TypeScript sources', () => {
    // Act
    const installed = path.join(consumer, 'node_modules', 'kms-deletion-guard');
    const files = readdirSync(installed, { recursive: true }).map(String);

    // Assess
    expect(files).toContain(path.join('dist', 'lib', 'index.js'));
    expect(files).toContain(path.join('dist', 'lib', 'index.d.ts'));
    expect(files).toContain(path.join('dist', 'lambdas', 'check', 'index.js'));
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(files.some((file) => file.startsWith(`test${path.sep}scenarios${path.sep}`))).toBe(true);
  });

  it(
    'gives a typed import of KeyDeletionGuard, and a synth that bundles every Lambda from the installed files',
    async () => {
      // Prepare
      writeFileSync(
        path.join(consumer, 'app.ts'),
        [
          "import { App, Stack } from 'aws-cdk-lib';",
          "import { KeyDeletionGuard, type KeyDeletionGuardProps } from 'kms-deletion-guard';",
          '',
          "const props: KeyDeletionGuardProps = { approvalEmails: ['ops@example.com'], cloudTrailLogGroupName: 'trail' };",
          "const app = new App({ outdir: 'cdk.out' });",
          "const stack = new Stack(app, 'Consumer');",
          "new KeyDeletionGuard(stack, 'Guard', props);",
          "const template = app.synth().getStackByName('Consumer').template as { Resources: Record<string, { Type: string }> };",
          "const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');",
          'console.log(JSON.stringify({ functions: functions.length }));',
          '',
        ].join('\n'),
      );
      writeFileSync(
        path.join(consumer, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            skipLibCheck: true,
            outDir: 'out',
            types: [],
          },
          include: ['app.ts'],
        }),
      );

      // Act: a type error (a missing export, untyped props) fails the compile.
      await run(TSC, ['-p', '.'], { cwd: consumer });
      const { stdout } = await run(process.execPath, ['out/app.js'], {
        cwd: consumer,
        maxBuffer: 64 * 1024 * 1024,
      });

      // Assess
      const last = stdout.trim().split('\n').at(-1) ?? '';
      const { functions } = JSON.parse(last) as { functions: number };
      expect(functions).toBeGreaterThanOrEqual(7);
      const assets = readdirSync(path.join(consumer, 'cdk.out')).filter((name) => name.startsWith('asset.'));
      expect(assets.length).toBeGreaterThanOrEqual(functions);
    },
    SLOW,
  );

  it('installs a CLI that answers --help', async () => {
    // Act
    const { stdout } = await run(cli, ['--help'], { cwd: consumer });

    // Assess
    expect(stdout).toContain('kms-deletion-guard start');
    expect(stdout).toContain('kms-deletion-guard simulate');
  });

  it(
    'runs a bundled scenario from the installed package (compiled simulator and handlers)',
    async () => {
      // Prepare
      const scenario = path.join(
        consumer,
        'node_modules',
        'kms-deletion-guard',
        'test',
        'scenarios',
        'quiet-key-deleted.json',
      );

      // Act
      const { stdout } = await run(cli, ['simulate', scenario, '--json'], {
        cwd: consumer,
        maxBuffer: 64 * 1024 * 1024,
      });

      // Assess
      expect(JSON.parse(stdout)).toMatchObject({ outcome: 'DELETION_SCHEDULED' });
    },
    SLOW,
  );
});
