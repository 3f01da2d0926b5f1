/**
 * Figures 4 and 6: the app synthesized in-process (with and without bundling), and the Lambda
 * bundles exactly as that synth wrote them (the assets that deploy), their size and the time a
 * fresh Node process takes to import them.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { BenchError } from './simulation.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const STACK_NAME = 'KmsDeletionGuard';

interface CfnFunction {
  readonly Type: string;
  readonly Properties?: {
    readonly MemorySize?: number;
    readonly Handler?: string;
    readonly Environment?: { readonly Variables?: Record<string, unknown> };
  };
  readonly Metadata?: Record<string, unknown>;
}

export interface SynthTemplate {
  readonly Resources?: Record<string, CfnFunction>;
}

export interface SynthFigures {
  /** Loading aws-cdk-lib and the stack's modules, once per process. */
  readonly loadSeconds: number;
  readonly noBundlingSeconds: number;
  readonly withBundlingSeconds: number;
  /** The template of the bundled synth, and where its assets are. */
  readonly template: SynthTemplate;
  readonly outdir: string;
}

function cdkContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/** Synthesizes the app as bin/app.ts builds it, in this process, into `outdir`. */
export async function synthApp(outdirs: { noBundling: string; withBundling: string }): Promise<SynthFigures> {
  const loadStarted = performance.now();
  const [{ App }, { KmsDeletionGuardStack }, { readGuardContext }] = await Promise.all([
    import('aws-cdk-lib'),
    import('../lib/kms-deletion-guard-stack.js'),
    import('../lib/app-context.js'),
  ]);
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  const synth = (outdir: string, bundling: boolean) => {
    const started = performance.now();
    // Asset metadata is what `cdk synth` asks for too: it names each function's bundle folder.
    const context = {
      ...cdkContext(),
      'aws:cdk:enable-asset-metadata': true,
      ...(bundling ? {} : { 'aws:cdk:bundling-stacks': [] }),
    };
    const app = new App({ outdir, context });
    new KmsDeletionGuardStack(app, STACK_NAME, {
      guard: readGuardContext((key) => app.node.tryGetContext(key)),
    });
    const template = app.synth().getStackByName(STACK_NAME).template as SynthTemplate;
    return { seconds: (performance.now() - started) / 1000, template };
  };
  const noBundling = synth(outdirs.noBundling, false);
  const withBundling = synth(outdirs.withBundling, true);
  return {
    loadSeconds,
    noBundlingSeconds: noBundling.seconds,
    withBundlingSeconds: withBundling.seconds,
    template: withBundling.template,
    outdir: outdirs.withBundling,
  };
}

export interface DeployedFunction {
  /** The handler folder under lambdas/ (`KDG_HANDLER`). */
  readonly name: string;
  readonly logicalId: string;
  readonly memoryMb: number;
  /** The bundle Lambda loads (`index.mjs` of the function's asset). */
  readonly bundlePath: string;
  /** The function's environment (NODE_OPTIONS decides whether source maps load at import). */
  readonly environment: Readonly<Record<string, string>>;
}

/** The product's Lambda functions of a bundled template and their asset files. */
export function deployedFunctions(template: SynthTemplate, outdir: string): DeployedFunction[] {
  const functions: DeployedFunction[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    const variables = resource.Properties?.Environment?.Variables ?? {};
    const name = variables.KDG_HANDLER;
    if (resource.Type !== 'AWS::Lambda::Function' || typeof name !== 'string') {
      continue;
    }
    const assetPath = resource.Metadata?.['aws:asset:path'];
    const handlerFile = (resource.Properties?.Handler ?? 'index.handler').split('.')[0] ?? 'index';
    if (typeof assetPath !== 'string') {
      throw new BenchError(`${logicalId} has no asset path: the synth did not bundle it`);
    }
    const dir = join(outdir, assetPath);
    const bundlePath = ['.mjs', '.js', '.cjs']
      .map((ext) => join(dir, `${handlerFile}${ext}`))
      .find(existsSync);
    if (!bundlePath) {
      throw new BenchError(`${logicalId}: no ${handlerFile}.mjs/.js in ${dir}`);
    }
    functions.push({
      name,
      logicalId,
      memoryMb: resource.Properties?.MemorySize ?? 128,
      bundlePath,
      environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])),
    });
  }
  return functions.sort((a, b) => a.name.localeCompare(b.name));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * Median time `await import(bundle)` takes in fresh Node processes (Node's own start-up excluded),
 * with the function's environment and dummy credentials, as Lambda's init phase would load it.
 */
export async function coldImportMs(
  bundlePath: string,
  environment: Readonly<Record<string, string>>,
  runs: number,
): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(bundlePath).href)}); process.stdout.write(String(performance.now() - t));`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIABENCH00000000000',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...environment,
  };
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env, cwd: ROOT });
    const ms = Number(stdout.trim());
    if (!Number.isFinite(ms)) {
      throw new BenchError(`importing ${bundlePath} printed '${stdout.trim()}', not a time`);
    }
    times.push(ms);
  }
  return median(times);
}

/**
 * The reference bundle: `NodejsFunction`'s defaults with the SDK bundled in (CommonJS, not
 * minified, no source map), i.e. what the project would deploy without tuning its bundling.
 */
export async function buildBaselineBundle(handler: string, outdir: string): Promise<string> {
  const outfile = join(outdir, handler, 'index.js');
  await build({
    entryPoints: [join(ROOT, 'lambdas', handler, 'index.ts')],
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

export function fileBytes(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}
