import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import sparticuz from '@sparticuz/chromium';
import { type BrowserContext, chromium } from 'playwright-core';

/**
 * A real headless Chromium for page tests, from the npm registry like every other test dependency:
 * `@sparticuz/chromium` ships the binary inside the package and unpacks it to the temp folder on first
 * use, so `npm ci && npm test` needs no system browser and no root. `CHROMIUM_PATH` points at another
 * Chromium instead (a developer's own, or a distribution's).
 */
export async function chromiumExecutable(): Promise<string> {
  const override = process.env.CHROMIUM_PATH;
  if (override) return override;
  return sparticuz.executablePath();
}

/**
 * Flags that keep the browser off the network: machines here are offline, and without these Chromium
 * tries Google's hosts at every start (refused connections, slow launches).
 */
const OFFLINE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface LaunchedBrowser {
  readonly context: BrowserContext;
  readonly executablePath: string;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile that is removed again by `close()`. */
export async function launchBrowser(): Promise<LaunchedBrowser> {
  const executablePath = await chromiumExecutable();
  const userDataDir = mkdtempSync(path.join(tmpdir(), 'kdg-chromium-'));
  // The packaged build's own flags (single process, no zygote) are what it needs to run without a
  // sandbox helper; a browser given by CHROMIUM_PATH gets only the offline flags.
  const args = process.env.CHROMIUM_PATH
    ? OFFLINE_FLAGS
    : [...new Set([...sparticuz.args, ...OFFLINE_FLAGS])];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args,
  });
  return {
    context,
    executablePath,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
