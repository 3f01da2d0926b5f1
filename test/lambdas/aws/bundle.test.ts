import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { BUNDLE_ALIASES, HANDLER_NAMES, type HandlerName } from '../../../lib/constructs/guard-function.js';

/**
 * The handlers' SDK clients as the deployed bundles have them: built with the aliases of
 * GuardFunction (and its format, platform and main fields), then sent through against a local
 * server. Everything else in the repository runs the source with the SDK's own modules, so this is
 * where the stand-ins of lambdas/aws/ are seen to keep SigV4, Lambda's credentials and retries.
 */

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const AWS_DIR = join(ROOT, 'lambdas', 'aws');

/** GuardFunction's bundling (lib/constructs/guard-function.ts) as esbuild options, source maps aside. */
const GUARD_BUNDLING: BuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: true,
  charset: 'utf8',
  alias: { ...BUNDLE_ALIASES },
  banner: { js: "import { createRequire } from 'module';const require = createRequire(import.meta.url);" },
  logLevel: 'silent',
};

const HANDLERS: readonly HandlerName[] = HANDLER_NAMES;

const SDK_IMPORT = /import\s*(?:type\s+)?\{([^}]*)\}\s*from\s*'@aws-sdk\/(client-[a-z0-9-]+)'/g;
const SDK_CLIENT_FILE = /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\//;

const PROBE = `
import { DescribeKeyCommand } from '@aws-sdk/client-kms';
import { CloudWatchLogsClient, FilterLogEventsCommand, StartLiveTailCommand } from '@aws-sdk/client-cloudwatch-logs';
import { kmsClient, logsClient } from './clients.js';
export const describeKey = (region, keyId) => kmsClient(region).send(new DescribeKeyCommand({ KeyId: keyId }));
export const filterLogEvents = (region, logGroupName) =>
  logsClient(region).send(new FilterLogEventsCommand({ logGroupName }));
// StartLiveTail's endpoint has a host prefix (stream-), which the local server's address cannot take.
export const startLiveTail = (region, logGroupArn) =>
  new CloudWatchLogsClient({ region, disableHostPrefix: true })
    .send(new StartLiveTailCommand({ logGroupIdentifiers: [logGroupArn] }));
`;

interface Probe {
  describeKey(region: string, keyId: string): Promise<{ KeyMetadata?: { KeyId?: string } }>;
  filterLogEvents(region: string, logGroupName: string): Promise<{ events?: { message?: string }[] }>;
  startLiveTail(region: string, logGroupArn: string): Promise<unknown>;
}

interface Received {
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

type Answer = (request: Received) => { status: number; body: Record<string, unknown> };

const ENV = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'ASIABUNDLEPROBE00000',
  AWS_SECRET_ACCESS_KEY: 'bundle-probe-secret',
  AWS_SESSION_TOKEN: 'bundle-probe-token',
} as const;

describe('bundled SDK clients (GuardFunction aliases)', () => {
  let dir: string;
  let server: Server;
  let probe: Probe;
  let metafile: Metafile;
  const received: Received[] = [];
  const answers: Answer[] = [];
  const saved = new Map<string, string | undefined>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kdg-bundle-'));
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const seen = {
          target: String(request.headers['x-amz-target'] ?? ''),
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        received.push(seen);
        const answer = answers.shift()?.(seen) ?? { status: 500, body: { __type: 'NoAnswerPrepared' } };
        response.writeHead(answer.status, {
          'Content-Type': 'application/x-amz-json-1.1',
          'x-amzn-RequestId': `req-${received.length}`,
        });
        response.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const outfile = join(dir, 'probe.mjs');
    const result = await build({
      ...GUARD_BUNDLING,
      stdin: { contents: PROBE, resolveDir: AWS_DIR, loader: 'ts', sourcefile: 'probe.ts' },
      outfile,
      metafile: true,
    });
    metafile = result.metafile;

    const env: Record<string, string> = {
      ...ENV,
      AWS_ENDPOINT_URL_KMS: endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoint,
    };
    for (const [name, value] of Object.entries(env)) {
      saved.set(name, process.env[name]);
      process.env[name] = value;
    }
    probe = (await import(pathToFileURL(outfile).href)) as Probe;
  });

  afterAll(async () => {
    for (const [name, value] of saved) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
    await new Promise<void>((closed) => server.close(() => closed()));
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    received.length = 0;
    answers.length = 0;
  });

  it('leaves out the SDK credential chain and event streams, and takes the stand-ins', () => {
    // Act
    const inputs = Object.keys(metafile.inputs);

    // Assess
    expect(inputs.filter((f) => f.includes('/submodules/event-streams/'))).toEqual([]);
    expect(inputs.filter((f) => f.includes('credential-provider'))).toEqual([]);
    expect(inputs).toEqual(
      expect.arrayContaining(['lambdas/aws/no-event-streams.ts', 'lambdas/aws/lambda-credentials.ts']),
    );
  });

  it("signs with the role credentials of Lambda's environment and retries a server error", async () => {
    // Prepare
    answers.push(
      () => ({ status: 500, body: { __type: 'KMSInternalException', message: 'try again' } }),
      () => ({ status: 200, body: { KeyMetadata: { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' } } }),
    );

    // Act
    const described = await probe.describeKey('eu-west-1', '1234abcd-12ab-34cd-56ef-1234567890ab');

    // Assess
    expect(described.KeyMetadata?.KeyId).toBe('1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(received.map((r) => r.target)).toEqual(['TrentService.DescribeKey', 'TrentService.DescribeKey']);
    for (const request of received) {
      expect(request.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=ASIABUNDLEPROBE00000\/\d{8}\/eu-west-1\/kms\/aws4_request, SignedHeaders=[^,]*x-amz-security-token[^,]*, Signature=[0-9a-f]{64}$/,
      );
      expect(request.headers['x-amz-security-token']).toBe('bundle-probe-token');
      expect(JSON.parse(request.body)).toEqual({ KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' });
    }
  });

  it('reads a CloudWatch Logs answer through the bundled protocol', async () => {
    // Prepare
    answers.push(() => ({
      status: 200,
      body: { events: [{ eventId: 'e1', message: '{"eventName":"Decrypt"}' }] },
    }));

    // Act
    const page = await probe.filterLogEvents('eu-west-1', 'trail-logs');

    // Assess
    expect(page.events?.[0]?.message).toBe('{"eventName":"Decrypt"}');
    expect(received[0]?.target).toBe('Logs_20140328.FilterLogEvents');
    expect(received[0]?.headers.authorization).toContain('/eu-west-1/logs/aws4_request');
  });

  it('fails an operation with an event stream with a named error, not a wrong answer', async () => {
    // Prepare
    answers.push(() => ({ status: 200, body: {} }));

    // Act
    const attempt = probe.startLiveTail(
      'eu-west-1',
      'arn:aws:logs:eu-west-1:111122223333:log-group:trail-logs',
    );

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'EventStreamsNotBundledError' });
    expect(received.map((r) => r.target)).toEqual(['Logs_20140328.StartLiveTail']);
  });

  it('sends nothing when the environment has no role credentials', async () => {
    // Prepare
    const accessKey = process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_ACCESS_KEY_ID;

    // Act
    const attempt = probe.describeKey('eu-central-1', '1234abcd-12ab-34cd-56ef-1234567890ab');

    // Assess
    try {
      await expect(attempt).rejects.toMatchObject({ name: 'LambdaCredentialsError' });
      expect(received).toEqual([]);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = accessKey;
    }
  });
});

/** The SDK clients whose commands a bundled source file sends (a client only imported for its type is not one). */
function clientsSentFrom(file: string): string[] {
  const clients: string[] = [];
  for (const [, names = '', client = ''] of readFileSync(join(ROOT, file), 'utf8').matchAll(SDK_IMPORT)) {
    if (names.split(',').some((name) => /^\s*\w+Command\b/.test(name))) {
      clients.push(client);
    }
  }
  return clients;
}

describe('handler bundles (GuardFunction aliases and tree-shaking)', () => {
  it.each(HANDLERS)(
    '%s carries only the SDK clients whose commands it sends, without the stand-in parts',
    async (handler) => {
      // Prepare
      const entry = join(ROOT, 'lambdas', handler, 'index.ts');

      // Act
      const { metafile } = await build({
        ...GUARD_BUNDLING,
        entryPoints: [entry],
        outdir: '/',
        write: false,
        metafile: true,
      });
      const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
      const inputs = Object.entries(output?.inputs ?? {})
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([file]) => file);

      // Assess
      const bundled = new Set(inputs.map((f) => SDK_CLIENT_FILE.exec(f)?.[1]).filter((c) => c !== undefined));
      const sent = new Set(inputs.filter((f) => f.startsWith('lambdas/')).flatMap(clientsSentFrom));
      expect([...bundled].sort()).toEqual([...sent].sort());
      expect(sent.size).toBeGreaterThan(0);
      expect(
        inputs.filter((f) => f.includes('/submodules/event-streams/') || f.includes('credential-provider')),
      ).toEqual([]);
    },
  );
});
