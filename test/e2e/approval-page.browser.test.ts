import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { BrowserContext, Locator, Page } from 'playwright-core';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.KDG_APPROVAL_LINKS_TABLE = 'browser-links';
});

import { handler } from '../../lambdas/approval/index.js';
import {
  EXECUTION_ARN,
  FakeExecution,
  KEY_ARN,
  type Step,
  TOKEN,
} from '../lambdas/approval/fake-execution.js';
import { TestLinkStore } from '../lambdas/approval/link-store.js';
import {
  LAST_USE_DAYS_BEFORE,
  MIN_IDLE_DAYS,
  REQUESTED_BY,
  realisticExecution,
} from '../lambdas/approval/realistic-execution.js';
import { type LaunchedBrowser, launchBrowser } from './browser.js';
import { type ServedHandler, serveHandler } from './lambda-http.js';

/** Set to a file path to keep a screenshot of the approval page (the README shows it). */
const SCREENSHOT = process.env.APPROVAL_PAGE_SCREENSHOT;
/** Where every run leaves the screenshots of the full-size pages, for a person to look at. */
const ARTIFACTS = path.resolve('test-artifacts');
/** A laptop screen with browser chrome: the buttons must be on it without scrolling. */
const FIRST_SCREEN = { width: 1000, height: 900 };

const sfn = mockClient(SFNClient);
let store: TestLinkStore;
let server: ServedHandler;
let browser: LaunchedBrowser;
let context: BrowserContext;

/** The link exactly as the request function writes it into the e-mail. */
function emailLink(secret: string): string {
  return `${server.url}?link=${secret}`;
}

/** A link of the pending request of `step`, as the request function stores and sends it. */
function issueLink(step: Step = 'disable'): Promise<string> {
  return store.issue({ step });
}

async function openLink(secret: string, viewport?: typeof FIRST_SCREEN): Promise<Page> {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const response = await page.goto(emailLink(secret));
  expect(response?.status()).toBe(200);
  return page;
}

/** The element's box lies inside the viewport as the page opened, with nothing scrolled. */
async function expectInFirstScreen(page: Page, element: Locator): Promise<void> {
  const box = await element.boundingBox();
  expect(box).not.toBeNull();
  expect(await page.evaluate('[window.scrollX, window.scrollY]')).toEqual([0, 0]);
  expect(box?.x).toBeGreaterThanOrEqual(0);
  expect(box?.y).toBeGreaterThanOrEqual(0);
  expect((box?.x ?? Infinity) + (box?.width ?? 0)).toBeLessThanOrEqual(FIRST_SCREEN.width);
  expect((box?.y ?? Infinity) + (box?.height ?? 0)).toBeLessThanOrEqual(FIRST_SCREEN.height);
}

async function keepScreenshots(page: Page, step: Step): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `approval-page-${step}.png`) });
  await page.screenshot({ path: path.join(ARTIFACTS, `approval-page-${step}-full.png`), fullPage: true });
}

describe('approval page in Chromium', () => {
  beforeAll(async () => {
    store = await TestLinkStore.start(process.env.KDG_APPROVAL_LINKS_TABLE);
    server = await serveHandler(handler);
    browser = await launchBrowser();
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await store?.close();
  });

  afterEach(async () => {
    for (const page of context.pages()) await page.close();
    sfn.reset();
  });

  it('shows the request when the link is opened, and decides nothing', async () => {
    // Prepare
    const execution = new FakeExecution().install(sfn);
    const secret = await issueLink();

    // Act
    const page = await openLink(secret);

    // Assess
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent())
      .toBe('Approve disabling a KMS key?');
    expect(await page.textContent('body')).toContain('marked self-declared');
    expect(await page.content()).not.toContain(TOKEN);
    expect((await store.recordOf(secret))?.usedAt).toBeUndefined();
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.getByRole('row', { name: /Key ARN/ }).textContent()).toContain(KEY_ARN);
    expect(await page.getByRole('row', { name: /Aliases/ }).textContent()).toContain('alias/legacy');
    expect(await page.getByLabel('Your name or e-mail').count()).toBe(1);
    expect(await page.getByLabel('Comment (optional)').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Reject' }).count()).toBe(1);
    expect(execution.historyCalls).toBeGreaterThan(0);
    expect(execution.successes).toHaveLength(0);
    expect(execution.failures).toHaveLength(0);
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it('sends SendTaskSuccess with the decision when Approve is clicked', async () => {
    // Prepare
    const execution = new FakeExecution().install(sfn);
    const secret = await issueLink();
    const page = await openLink(secret);
    await page.getByLabel('Your name or e-mail').fill('alice@example.com');
    await page.getByLabel('Comment (optional)').fill('checked with <payments> & ops');

    // Act
    await page.getByRole('button', { name: /^Approve/ }).click();

    // Assess
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Approved');
    expect(await page.textContent('body')).toContain('checked with <payments> & ops');
    expect(execution.successes).toHaveLength(1);
    expect(execution.successes[0]?.taskToken).toBe(TOKEN);
    const output = JSON.parse(execution.successes[0]?.output ?? '{}');
    expect(output).toMatchObject({
      decision: 'approve',
      step: 'disable',
      by: 'alice@example.com',
      identity: { kind: 'self-declared' },
      via: 'approval-page',
      comment: 'checked with <payments> & ops',
      sourceIp: '127.0.0.1',
    });
    expect(await page.textContent('body')).toContain('alice@example.com (self-declared name, not verified)');
    expect(await store.recordOf(secret)).toMatchObject({ usedFor: 'approve' });
    expect(output.userAgent).toMatch(/Chrome/);
    expect(Date.parse(output.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(execution.failures).toHaveLength(0);
  });

  it('sends SendTaskFailure when Reject is clicked', async () => {
    // Prepare
    const execution = new FakeExecution({ step: 'deletion' }).install(sfn);
    const page = await openLink(await issueLink('deletion'));
    await page.getByLabel('Your name or e-mail').fill('bob');
    await page.getByLabel('Comment (optional)').fill('still used by the batch job');

    // Act
    await page.getByRole('button', { name: 'Reject' }).click();

    // Assess
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Rejected');
    expect(execution.successes).toHaveLength(0);
    expect(execution.failures).toHaveLength(1);
    expect(execution.failures[0]).toMatchObject({ taskToken: TOKEN, error: 'ApprovalRejected' });
    expect(execution.failures[0]?.cause).toMatch(
      /^REJECTED on the approval page by bob \(self-declared name, not verified\) at .* from 127\.0\.0\.1, .*Chrome.*: still used by the batch job$/,
    );
  });

  it('decides nothing when another site makes the browser submit the form, even with the link’s secret', async () => {
    // Prepare: a page of another site (localhost is another site than 127.0.0.1) that posts a
    // decision with the link's secret (the worst case) and the token read from the history, as soon
    // as it is opened.
    const execution = new FakeExecution().install(sfn);
    const secret = await issueLink();
    const attacker = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end(
        `<form method="post" action="${server.url}"><input name="link" value="${secret}">` +
          `<input name="token" value="${TOKEN}"><input name="decision" value="approve">` +
          '<input name="by" value="mallory"></form><script>document.forms[0].submit()</script>',
      );
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    const { port } = attacker.address() as AddressInfo;
    const page = await context.newPage();

    try {
      // Act
      await page.goto(`http://localhost:${port}/`);

      // Assess
      await expect
        .poll(() => page.getByRole('heading', { level: 1 }).textContent())
        .toBe('Not sent from the approval page');
      expect(execution.successes).toHaveLength(0);
      expect(execution.failures).toHaveLength(0);
      expect((await store.recordOf(secret))?.usedAt).toBeUndefined();
    } finally {
      attacker.closeAllConnections();
      await new Promise<void>((resolve) => attacker.close(() => resolve()));
    }
  });

  it('shows nothing and decides nothing for a link that carries the task token instead of a secret', async () => {
    // Prepare: the token as anyone who may read the execution history reads it, in the old link's form.
    const execution = new FakeExecution().install(sfn);
    const page = await context.newPage();

    // Act
    const response = await page.goto(`${server.url}?execution=${EXECUTION_ARN}&token=${TOKEN}`);

    // Assess
    expect(response?.status()).toBe(400);
    expect(await page.locator('form').count()).toBe(0);
    expect(execution.successes).toHaveLength(0);
  });

  it('shows "already decided" to a second submit, and sends nothing more', async () => {
    // Prepare: two approvers opened the same e-mail.
    const execution = new FakeExecution().install(sfn);
    const secret = await issueLink();
    const first = await openLink(secret);
    const second = await openLink(secret);
    await first.getByRole('button', { name: /^Approve/ }).click();
    await expect.poll(() => first.getByRole('heading', { level: 1 }).textContent()).toBe('Approved');

    // Act
    await second.getByRole('button', { name: 'Reject' }).click();

    // Assess
    await expect.poll(() => second.getByRole('heading', { level: 1 }).textContent()).toBe('Already decided');
    expect(await second.textContent('body')).toContain('already used for a decision');
    expect(execution.successes).toHaveLength(1);
    expect(execution.failures).toHaveLength(0);
  });

  describe('with a full-size request at 1000x900', () => {
    it('shows both buttons in the first screen for the disable step, with the assessment in sections', async () => {
      // Prepare
      const execution = new FakeExecution(
        realisticExecution('disable', new Date(Date.now() - 3_600_000)),
      ).install(sfn);

      // Act
      const page = await openLink(await issueLink(), FIRST_SCREEN);
      await keepScreenshots(page, 'disable');

      // Assess: the decision and both buttons without scrolling.
      const approve = page.getByRole('button', { name: 'Approve: disable the key' });
      const reject = page.getByRole('button', { name: 'Reject' });
      await expectInFirstScreen(page, approve);
      await expectInFirstScreen(page, reject);
      await expectInFirstScreen(page, page.getByText('If you reject'));
      const decision = page.getByRole('region', { name: 'Your decision' });
      expect(await decision.textContent()).toContain('The workflow ends. Nothing is changed on the key.');
      // The assessment: warnings first, usage against the idle rule, the key with its tags, the request.
      const sections = await page.locator('.details > section h2').allTextContents();
      expect(sections).toEqual([
        'Warnings (2)',
        'Usage (GetKeyLastUsage)',
        'Key',
        'What the key protects',
        'Request',
      ]);
      const usage = await page.getByRole('region', { name: 'Usage (GetKeyLastUsage)' }).textContent();
      expect(usage).toContain(`${LAST_USE_DAYS_BEFORE} days ago`);
      expect(usage).toContain(`The idle rule (minIdleDays ${MIN_IDLE_DAYS}) is met.`);
      expect(await page.getByRole('row', { name: /Tags/ }).textContent()).toContain('cost-center');
      expect(await page.getByRole('row', { name: /Requested by/ }).textContent()).toContain(REQUESTED_BY);
      // The e-mail itself is kept, folded away.
      expect(await page.locator('details pre').isVisible()).toBe(false);
      expect(execution.successes).toHaveLength(0);
      expect(execution.failures).toHaveLength(0);
    });

    it('shows both buttons in the first screen for the deletion step, and says what Reject restores', async () => {
      // Prepare
      const execution = new FakeExecution(
        realisticExecution('deletion', new Date(Date.now() - 3_600_000)),
      ).install(sfn);

      // Act
      const page = await openLink(await issueLink('deletion'), FIRST_SCREEN);
      await keepScreenshots(page, 'deletion');

      // Assess
      await expectInFirstScreen(page, page.getByRole('button', { name: 'Approve: schedule deletion' }));
      await expectInFirstScreen(page, page.getByRole('button', { name: 'Reject' }));
      const decision = await page.getByRole('region', { name: 'Your decision' }).textContent();
      expect(decision).toContain('re-enables the key, which was Enabled before this execution disabled it.');
      expect(decision).toContain('The same as Reject');
      const observation = await page.getByRole('region', { name: 'Observation' }).textContent();
      expect(observation).toContain('None: no DisabledException on this key.');
      expect(observation).toContain('30 days ago');
      expect(execution.successes).toHaveLength(0);
    });

    it('still decides with the button that was in view', async () => {
      // Prepare
      const execution = new FakeExecution(
        realisticExecution('deletion', new Date(Date.now() - 3_600_000)),
      ).install(sfn);
      const page = await openLink(await issueLink('deletion'), FIRST_SCREEN);

      // Act
      await page.getByRole('button', { name: 'Reject' }).click();

      // Assess
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Rejected');
      expect(await page.textContent('body')).toContain('re-enables the key it disabled');
      expect(execution.failures).toHaveLength(1);
    });
  });
});
