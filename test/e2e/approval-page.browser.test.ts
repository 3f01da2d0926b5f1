import { SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { BrowserContext, Page } from 'playwright-core';

vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.AWS_REGION = 'us-east-1';
});

import { handler } from '../../lambdas/approval/index.js';
import { EXECUTION_ARN, FakeExecution, KEY_ARN, TOKEN } from '../lambdas/approval/fake-execution.js';
import { type LaunchedBrowser, launchBrowser } from './browser.js';
import { type ServedHandler, serveHandler } from './lambda-http.js';

/** Set to a file path to keep a screenshot of the approval page (the README shows it). */
const SCREENSHOT = process.env.APPROVAL_PAGE_SCREENSHOT;

const sfn = mockClient(SFNClient);
let server: ServedHandler;
let browser: LaunchedBrowser;
let context: BrowserContext;

/** The link exactly as the e-mail's States.Format writes it: nothing URL-encoded. */
function emailLink(): string {
  return `${server.url}?execution=${EXECUTION_ARN}&token=${TOKEN}`;
}

async function openLink(): Promise<Page> {
  const page = await context.newPage();
  const response = await page.goto(emailLink());
  expect(response?.status()).toBe(200);
  return page;
}

describe('approval page in Chromium', () => {
  beforeAll(async () => {
    server = await serveHandler(handler);
    browser = await launchBrowser();
    context = browser.context;
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  afterEach(async () => {
    for (const page of context.pages()) await page.close();
    sfn.reset();
  });

  it('shows the request when the link is opened, and decides nothing', async () => {
    // Prepare
    const execution = new FakeExecution().install(sfn);

    // Act
    const page = await openLink();

    // Assess
    await expect
      .poll(() => page.getByRole('heading', { level: 1 }).textContent())
      .toBe('Approve disabling a KMS key?');
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
    const page = await openLink();
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
      comment: 'checked with <payments> & ops',
      sourceIp: '127.0.0.1',
    });
    expect(output.userAgent).toMatch(/Chrome/);
    expect(Date.parse(output.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(execution.failures).toHaveLength(0);
  });

  it('sends SendTaskFailure when Reject is clicked', async () => {
    // Prepare
    const execution = new FakeExecution({ step: 'deletion' }).install(sfn);
    const page = await openLink();
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
      /^REJECTED on the approval page by bob at .*: still used by the batch job$/,
    );
  });

  it('shows "already decided" to a second submit, and sends nothing more', async () => {
    // Prepare: two approvers opened the same e-mail.
    const execution = new FakeExecution().install(sfn);
    const first = await openLink();
    const second = await openLink();
    await first.getByRole('button', { name: /^Approve/ }).click();
    await expect.poll(() => first.getByRole('heading', { level: 1 }).textContent()).toBe('Approved');

    // Act
    await second.getByRole('button', { name: 'Reject' }).click();

    // Assess
    await expect.poll(() => second.getByRole('heading', { level: 1 }).textContent()).toBe('Already decided');
    expect(await second.textContent('body')).toContain('already decided');
    expect(execution.successes).toHaveLength(1);
    expect(execution.failures).toHaveLength(0);
  });
});
