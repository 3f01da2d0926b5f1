import {
  GetExecutionHistoryCommand,
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';

vi.hoisted(() => {
  // INFO, so the test can read what the handler logs and prove no secret or token is in it.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.KDG_APPROVAL_LINKS_TABLE = 'approval-links';
});

import { handler, type ProxyResult } from '../../../lambdas/approval/index.js';
import { linkFingerprint, linkSecretHash } from '../../../lambdas/domain/approval-link.js';
import { EXECUTION_ARN, FakeExecution, KEY_ARN, SCHEDULED_AT, TOKEN } from './fake-execution.js';
import { TestLinkStore } from './link-store.js';
import { MIN_IDLE_DAYS, realisticExecution } from './realistic-execution.js';

const NOW = new Date('2026-02-01T10:00:00.000Z');
const EXPIRED_AT = new Date('2026-02-08T09:00:00.000Z');
const sfn = mockClient(SFNClient);
let store: TestLinkStore;
let logged: string[] = [];

function get(query: Record<string, string> | null): Record<string, unknown> {
  return {
    httpMethod: 'GET',
    path: '/',
    queryStringParameters: query,
    headers: { 'User-Agent': 'Mozilla/5.0 test' },
    body: null,
    isBase64Encoded: false,
    requestContext: { identity: { sourceIp: '198.51.100.7', userAgent: 'Mozilla/5.0 test' } },
  };
}

function postBody(body: string, base64 = false): Record<string, unknown> {
  return {
    ...get(null),
    httpMethod: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'User-Agent': 'Mozilla/5.0 test' },
    body: base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
  };
}

function post(fields: Record<string, string>, base64 = false): Record<string, unknown> {
  return postBody(new URLSearchParams(fields).toString(), base64);
}

async function call(event: Record<string, unknown>): Promise<ProxyResult> {
  return handler(event);
}

/** The task token exactly as GetExecutionHistory shows it to anyone who may read the history. */
function tokenFromHistory(execution: FakeExecution): string {
  const scheduled = execution.events.find((event) => event.type === 'TaskScheduled');
  const parameters = JSON.parse(scheduled?.taskScheduledEventDetails?.parameters ?? '{}');
  return parameters.Payload.taskToken as string;
}

describe('approval handler', () => {
  beforeAll(async () => {
    store = await TestLinkStore.start(process.env.KDG_APPROVAL_LINKS_TABLE);
  });

  afterAll(async () => {
    await store.close();
  });

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    logged = [];
    const capture = (chunk: unknown) => {
      logged.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  });

  afterEach(() => {
    vi.useRealTimers();
    sfn.reset();
  });

  describe('GET', () => {
    it('shows the pending disable request from the history and decides nothing', async () => {
      // Prepare
      new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(200);
      expect(result.headers['Content-Type']).toBe('text/html; charset=utf-8');
      expect(result.headers['Referrer-Policy']).toBe('no-referrer');
      expect(result.body).toContain(KEY_ARN);
      expect(result.body).toContain('alias/legacy');
      expect(result.body).toContain('Legacy payments key');
      expect(result.body).toContain('Approve disabling a KMS key?');
      expect(result.body).toContain('Key alias/legacy was last used on 2024-05-01 (Decrypt).');
      // The form carries the link's secret back, never the task token.
      expect(result.body).toContain(`name="link" value="${secret}"`);
      expect(result.body).not.toContain(TOKEN);
      expect(result.body).toContain('marked self-declared');
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
      expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
      expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input).toMatchObject({
        executionArn: EXECUTION_ARN,
        reverseOrder: true,
        includeExecutionData: true,
      });
      expect((await store.recordOf(secret))?.usedAt).toBeUndefined();
    });

    it('shows the date the key would be deleted for the deletion step', async () => {
      // Prepare
      new FakeExecution({ step: 'deletion' }).install(sfn);
      const secret = await store.issue({ now: NOW, step: 'deletion' });

      // Act
      const result = await call(get({ link: secret }));

      // Assess: now + pendingWindowInDays (30).
      expect(result.statusCode).toBe(200);
      expect(result.body).toContain('Approve scheduling the deletion of a KMS key?');
      expect(result.body).toContain('<time datetime="2026-03-03T10:00:00.000Z">2026-03-03 10:00 UTC</time>');
      expect(result.body).toContain('No DisabledException in 30 days.');
    });

    it('escapes every value taken from the key', async () => {
      // Prepare
      new FakeExecution({
        description: '<img src=x onerror=alert(1)>',
        aliases: ['alias/"><script>alert(2)</script>'],
        summaryText: 'used by <b>nobody</b> & co',
      }).install(sfn);
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.body).not.toContain('<img');
      expect(result.body).not.toContain('<script');
      expect(result.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(result.body).toContain('alias/&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
      expect(result.body).toContain('used by &lt;b&gt;nobody&lt;/b&gt; &amp; co');
    });

    it('answers 404 for a well-formed secret the store does not hold, without reading any history', async () => {
      // Prepare
      new FakeExecution().install(sfn);

      // Act
      const result = await call(get({ link: 'A'.repeat(43) }));

      // Assess
      expect(result.statusCode).toBe(404);
      expect(result.body).toContain('Approval request not found');
      expect(result.body).not.toContain('name="link"');
      expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
    });

    it('answers 404 when the stored token belongs to no approval of the execution', async () => {
      // Prepare
      new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW, taskToken: 'AQCEAAAAother+token/AAAA=' });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(404);
      expect(result.body).not.toContain('name="link"');
    });

    it('answers 404 when the stored step is not the step the execution waits for', async () => {
      // Prepare: the execution waits for the disable approval; the link says deletion.
      new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW, step: 'deletion' });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(404);
    });

    it('answers 404 for an execution of another state machine, without a stack trace', async () => {
      // Prepare
      new FakeExecution().install(sfn);
      const secret = await store.issue({
        now: NOW,
        executionArn: EXECUTION_ARN.replace('kdg-legacy', 'someone-else'),
      });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(404);
      expect(result.body).not.toMatch(/\bat .*\.ts:\d+/);
    });

    it('answers 409 once the request was decided, even through another link', async () => {
      // Prepare
      const execution = new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW });
      execution.succeed({ taskToken: TOKEN, output: '{}' });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(409);
      expect(result.body).toContain('already decided');
    });

    it('answers 409 for a link already used, without reading the history', async () => {
      // Prepare
      new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW, usedAt: NOW.toISOString(), usedFor: 'approve' });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(409);
      expect(result.body).toContain('Already decided');
      expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
    });

    it('answers 410 for a link past its expiry, without reading the history', async () => {
      // Prepare
      new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW, expiresAt: NOW.toISOString() });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(410);
      expect(result.body).toContain('expired');
      expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
    });

    it('answers 410 when the execution has ended without the approval timing out', async () => {
      // Prepare
      new FakeExecution().install(sfn).abort();
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(410);
      expect(result.body).toContain('Workflow already ended');
    });

    it('says when an approval that timed out expired, that nothing was changed, and to start again', async () => {
      // Prepare
      new FakeExecution().install(sfn).end('ExecutionFailed', EXPIRED_AT);
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(410);
      expect(result.body).toContain('This approval expired');
      expect(result.body).toContain(
        'This disable approval expired at 2026-02-08T09:00:00.000Z; nothing was changed by this answer.',
      );
      expect(result.body).toContain('before it disabled the key, which stays as it was');
      expect(result.body).toContain(`start a new execution (npx kms-deletion-guard start ${KEY_ARN})`);
      expect(result.body).not.toContain('name="link"');
    });

    it('says when a link past its expiry expired, with the key to start again with', async () => {
      // Prepare
      new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW, expiresAt: EXPIRED_AT.toISOString() });
      vi.setSystemTime(new Date(EXPIRED_AT.getTime() + 1));

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(410);
      expect(result.body).toContain(
        'This disable approval expired at 2026-02-08T09:00:00.000Z; nothing was changed by this answer.',
      );
      expect(result.body).toContain(`npx kms-deletion-guard start ${KEY_ARN}`);
    });

    it.each([
      [{ link: '<script>' }, /not one this page issued/],
      [{ link: '' }, /no approval code/],
      [{ other: 'x' }, /no approval code/],
      [null, /no approval code/],
      [{ execution: EXECUTION_ARN, token: TOKEN }, /no approval code/],
    ])('answers 400 with a clear page for a malformed link %j', async (query, message) => {
      // Prepare
      new FakeExecution().install(sfn);

      // Act
      const result = await call(get(query));

      // Assess
      expect(result.statusCode).toBe(400);
      expect(result.body).toMatch(message);
      expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
    });

    it('answers 503 and decides nothing when Step Functions throttles', async () => {
      // Prepare
      const error = new Error('Rate exceeded');
      error.name = 'ThrottlingException';
      sfn.on(GetExecutionHistoryCommand).rejects(error);
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(503);
      expect(result.body).toContain('Nothing was decided');
      expect(result.body).not.toContain('Rate exceeded');
    });

    it('finds the approval across history pages', async () => {
      // Prepare: pages of 3 events, so the approval task's state input is on the second page.
      const execution = new FakeExecution({ padding: 10 }).install(sfn);
      sfn.on(GetExecutionHistoryCommand).callsFake((input) => execution.history({ ...input, maxResults: 3 }));
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(get({ link: secret }));

      // Assess: page 1 has the TaskScheduled but not its TaskStateEntered; page 2 completes it, and
      // the older pages are not read.
      expect(result.statusCode).toBe(200);
      expect(result.body).toContain(KEY_ARN);
      expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(2);
    });

    it('shows a full-size request with the decision first and the assessment in sections', async () => {
      // Prepare
      new FakeExecution(realisticExecution('disable', SCHEDULED_AT)).install(sfn);
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(200);
      expect(result.headers['Content-Security-Policy']).toContain("default-src 'none'");
      expect(result.headers['X-Frame-Options']).toBe('DENY');
      expect(result.headers['Cache-Control']).toBe('no-store');
      expect(result.body.indexOf('id="decision-heading"')).toBeLessThan(
        result.body.indexOf('id="warnings-heading"'),
      );
      expect(result.body).toContain('<dt>No answer by 2026-02-08 09:00 UTC</dt>');
      expect(result.body).toContain(`The idle rule (minIdleDays ${MIN_IDLE_DAYS}) is met.`);
      expect(result.body).toContain(`name="link" value="${secret}"`);
      expect(result.body).not.toMatch(/<script/i);
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
      expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    });

    it('shows no form when the stack names approvers, and says to decide with the CLI', async () => {
      // Prepare
      new FakeExecution({ approvers: ['arn:aws:iam::111122223333:role/KeyApprovers'] }).install(sfn);
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(get({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(200);
      expect(result.body).not.toContain('<form');
      expect(result.body).not.toContain(secret);
      expect(result.body).toContain('only its named approvers');
      expect(result.body).toContain(`approve ${EXECUTION_ARN} --step disable`);
    });

    it('answers 405 to other methods', async () => {
      // Act
      const result = await call({ ...get({ link: 'A'.repeat(43) }), httpMethod: 'PUT' });

      // Assess
      expect(result.statusCode).toBe(405);
      expect(result.headers.Allow).toBe('GET, POST');
    });
  });

  describe('a task token read from the execution history', () => {
    // What a principal that may only read (states:GetExecutionHistory, the log group, the topic's
    // subscriptions) can learn: the token, the execution ARN, the step, and the link store's digests.
    // Sent to the page in every form a parameter can take, none of it decides anything.
    let execution: FakeExecution;
    let secret: string;
    let token: string;

    beforeEach(async () => {
      execution = new FakeExecution().install(sfn);
      secret = await store.issue({ now: NOW });
      token = tokenFromHistory(execution);
    });

    afterEach(async () => {
      // Assess (every case): nothing was decided, and the real link can still decide.
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
      expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
      expect(execution.successes).toHaveLength(0);
      expect((await store.recordOf(secret))?.usedAt).toBeUndefined();
    });

    it('is the token the link store holds, so the cases below hold the real credential of the task', () => {
      // Assess
      expect(token).toBe(TOKEN);
    });

    const queries = (token: string, hash: string): Record<string, string>[] => [
      { token },
      { execution: EXECUTION_ARN, token },
      { link: token },
      { link: token.replaceAll('+', ' ') },
      { link: encodeURIComponent(token) },
      { link: Buffer.from(token, 'base64').toString('base64url') },
      { link: Buffer.from(token, 'base64').toString('base64url').slice(0, 43) },
      { link: hash },
      { link: linkFingerprint(token) },
      { execution: EXECUTION_ARN, token, link: '' },
    ];

    it('shows nothing and decides nothing as a GET parameter, in any form', async () => {
      for (const query of queries(token, linkSecretHash(secret))) {
        // Act
        const result = await call(get(query));

        // Assess
        expect(result.statusCode, JSON.stringify(query)).toBeGreaterThanOrEqual(400);
        expect(result.body).not.toContain('name="link"');
      }
    });

    it('decides nothing as a POST field, from the page itself, in any form', async () => {
      for (const fields of queries(token, linkSecretHash(secret))) {
        for (const decision of ['approve', 'reject']) {
          for (const base64 of [false, true]) {
            // Act
            const result = await call({
              ...post({ ...fields, decision, by: 'mallory' }, base64),
              headers: {
                'content-type': 'application/x-www-form-urlencoded',
                Host: 'abc.execute-api.us-east-1.amazonaws.com',
                Origin: 'https://abc.execute-api.us-east-1.amazonaws.com',
                'Sec-Fetch-Site': 'same-origin',
              },
            });

            // Assess
            expect(result.statusCode, JSON.stringify(fields)).toBeGreaterThanOrEqual(400);
          }
        }
      }
    });

    it('decides nothing beside a stale or foreign link either', async () => {
      // Prepare: a used link, an expired link, and a link of another task, each with the token beside it.
      const used = await store.issue({ now: NOW, usedAt: NOW.toISOString(), usedFor: 'reject' });
      const expired = await store.issue({ now: NOW, expiresAt: NOW.toISOString() });
      const foreign = await store.issue({ now: NOW, taskToken: 'AQCEAAAAother+token/AAAA=' });

      for (const link of [used, expired, foreign]) {
        // Act
        const result = await call(post({ link, token, execution: EXECUTION_ARN, decision: 'approve' }));

        // Assess
        expect(result.statusCode).toBeGreaterThanOrEqual(400);
      }
    });
  });

  describe('POST from another site', () => {
    async function withHeaders(headers: Record<string, string>): Promise<Record<string, unknown>> {
      const secret = await store.issue({ now: NOW });
      const event = post({ link: secret, decision: 'approve', by: 'mallory' });
      return { ...event, headers: { ...(event.headers as Record<string, string>), ...headers } };
    }

    it.each([
      [
        'Sec-Fetch-Site cross-site',
        { Host: 'abc.execute-api.us-east-1.amazonaws.com', 'Sec-Fetch-Site': 'cross-site' },
      ],
      [
        'Sec-Fetch-Site same-site',
        { Host: 'abc.execute-api.us-east-1.amazonaws.com', 'Sec-Fetch-Site': 'same-site' },
      ],
      [
        'a foreign Origin',
        { Host: 'abc.execute-api.us-east-1.amazonaws.com', Origin: 'https://evil.example' },
      ],
      ['Origin: null', { Host: 'abc.execute-api.us-east-1.amazonaws.com', Origin: 'null' }],
      [
        'an Origin and no host to compare it with',
        { Origin: 'https://abc.execute-api.us-east-1.amazonaws.com' },
      ],
    ])('decides nothing when the browser reports %s', async (_case, headers) => {
      // Prepare
      const execution = new FakeExecution().install(sfn);

      // Act
      const result = await call(await withHeaders(headers));

      // Assess
      expect(result.statusCode).toBe(403);
      expect(result.body).toContain('Nothing was decided');
      expect(execution.successes).toHaveLength(0);
      expect(execution.failures).toHaveLength(0);
    });

    it('decides when the browser reports the page itself as the sender', async () => {
      // Prepare
      const execution = new FakeExecution().install(sfn);

      // Act
      const result = await call(
        await withHeaders({
          Host: 'abc.execute-api.us-east-1.amazonaws.com',
          Origin: 'https://abc.execute-api.us-east-1.amazonaws.com',
          'Sec-Fetch-Site': 'same-origin',
        }),
      );

      // Assess
      expect(result.statusCode).toBe(200);
      expect(execution.successes).toHaveLength(1);
    });
  });

  describe('POST', () => {
    it('approves with the stored token, records what the request proves and labels the name self-declared', async () => {
      // Prepare
      const execution = new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(
        post({
          link: secret,
          decision: 'approve',
          by: 'alice@example.com',
          comment: 'checked with payments',
        }),
      );

      // Assess
      expect(result.statusCode).toBe(200);
      expect(result.body).toContain('Approved');
      expect(result.body).toContain('alice@example.com (self-declared name, not verified)');
      expect(result.body).toContain('198.51.100.7, Mozilla/5.0 test');
      expect(execution.successes).toHaveLength(1);
      expect(execution.successes[0]?.taskToken).toBe(TOKEN);
      expect(JSON.parse(execution.successes[0]?.output ?? '')).toEqual({
        decision: 'approve',
        step: 'disable',
        by: 'alice@example.com',
        identity: { kind: 'self-declared' },
        via: 'approval-page',
        at: NOW.toISOString(),
        comment: 'checked with payments',
        sourceIp: '198.51.100.7',
        userAgent: 'Mozilla/5.0 test',
      });
      expect(execution.failures).toHaveLength(0);
      expect(await store.recordOf(secret)).toMatchObject({ usedAt: NOW.toISOString(), usedFor: 'approve' });
    });

    it('rejects with SendTaskFailure ApprovalRejected and a cause naming who (self-declared), when, from where and why', async () => {
      // Prepare
      const execution = new FakeExecution({ step: 'deletion' }).install(sfn);
      const secret = await store.issue({ now: NOW, step: 'deletion' });

      // Act
      const result = await call(
        post({ link: secret, decision: 'reject', by: 'bob', comment: 'still in use' }),
      );

      // Assess
      expect(result.statusCode).toBe(200);
      expect(result.body).toContain('re-enables the key');
      expect(execution.failures).toEqual([
        {
          taskToken: TOKEN,
          error: 'ApprovalRejected',
          cause: `REJECTED on the approval page by bob (self-declared name, not verified) at ${NOW.toISOString()} from 198.51.100.7, Mozilla/5.0 test: still in use`,
        },
      ]);
      expect(execution.successes).toHaveLength(0);
      expect(await store.recordOf(secret)).toMatchObject({ usedFor: 'reject' });
    });

    it('says after rejecting a deletion that the key it disabled is re-enabled', async () => {
      // Prepare: the execution recorded that the key was Enabled before it disabled it.
      const execution = new FakeExecution(realisticExecution('deletion', SCHEDULED_AT)).install(sfn);
      const secret = await store.issue({ now: NOW, step: 'deletion' });

      // Act
      const result = await call(post({ link: secret, decision: 'reject', by: 'bob' }));

      // Assess
      expect(result.statusCode).toBe(200);
      expect(result.body).toContain(
        'No deletion is scheduled: the workflow ends and re-enables the key it disabled.',
      );
      expect(execution.failures).toHaveLength(1);
      expect(execution.failures[0]?.error).toBe('ApprovalRejected');
    });

    it('names the page as the decider when the name field is empty, and reads base64 bodies', async () => {
      // Prepare
      const execution = new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW });

      // Act
      await call(post({ link: secret, decision: 'approve', by: ' ' }, true));

      // Assess
      expect(JSON.parse(execution.successes[0]?.output ?? '')).toMatchObject({ by: 'approval page' });
      expect(JSON.parse(execution.successes[0]?.output ?? '')).not.toHaveProperty('comment');
    });

    it('shows "already decided" when the link is used again, and sends nothing more', async () => {
      // Prepare
      const execution = new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW });
      await call(post({ link: secret, decision: 'approve', by: 'alice' }));

      // Act
      const second = await call(post({ link: secret, decision: 'reject', by: 'alice' }));
      const reopened = await call(get({ link: secret }));

      // Assess
      expect(second.statusCode).toBe(409);
      expect(second.body).toContain('Already decided');
      expect(reopened.statusCode).toBe(409);
      expect(execution.successes).toHaveLength(1);
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(1);
      expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    });

    it('lets exactly one of two decisions sent at once through', async () => {
      // Prepare
      const execution = new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW });

      // Act
      const results = await Promise.all([
        call(post({ link: secret, decision: 'approve', by: 'alice' })),
        call(post({ link: secret, decision: 'reject', by: 'bob' })),
      ]);

      // Assess
      expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409]);
      expect(execution.successes.length + execution.failures.length).toBe(1);
    });

    it('answers 409 when the task closes between the check and the answer, and keeps the link spent', async () => {
      // Prepare
      new FakeExecution().install(sfn);
      sfn
        .on(SendTaskSuccessCommand)
        .rejects(new TaskTimedOut({ message: `Task Timed Out: '${TOKEN}'`, $metadata: {} }));
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(post({ link: secret, decision: 'approve' }));

      // Assess
      expect(result.statusCode).toBe(409);
      expect(result.body).toContain('Already decided');
      expect(logged.join('')).not.toContain(TOKEN);
      expect((await store.recordOf(secret))?.usedAt).toBe(NOW.toISOString());
    });

    it('gives the link back when Step Functions could not be reached, so the person can try again', async () => {
      // Prepare
      const execution = new FakeExecution().install(sfn);
      const throttled = new Error('Rate exceeded');
      throttled.name = 'ThrottlingException';
      sfn.on(SendTaskSuccessCommand).rejectsOnce(throttled);
      const secret = await store.issue({ now: NOW });

      // Act
      const first = await call(post({ link: secret, decision: 'approve', by: 'alice' }));
      const afterFirst = await store.recordOf(secret);
      sfn.on(SendTaskSuccessCommand).callsFake((input) => execution.succeed(input));
      const second = await call(post({ link: secret, decision: 'approve', by: 'alice' }));

      // Assess
      expect(first.statusCode).toBe(503);
      expect(afterFirst?.usedAt).toBeUndefined();
      expect(second.statusCode).toBe(200);
      expect(execution.successes).toHaveLength(1);
    });

    it('changes nothing when answered after the approval timed out, and says when it expired', async () => {
      // Prepare
      new FakeExecution({ step: 'deletion' }).install(sfn).expire(EXPIRED_AT);
      const secret = await store.issue({ now: NOW, step: 'deletion' });

      // Act
      const approved = await call(post({ link: secret, decision: 'approve' }));
      const rejected = await call(post({ link: secret, decision: 'reject' }));

      // Assess
      for (const result of [approved, rejected]) {
        expect(result.statusCode).toBe(410);
        expect(result.body).toContain(
          'This deletion approval expired at 2026-02-08T09:00:00.000Z; nothing was changed by this answer.',
        );
        expect(result.body).toContain('without scheduling the deletion');
      }
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
      expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    });

    it('sends nothing once the timeout has passed, even before Step Functions closed the task', async () => {
      // Prepare
      const execution = new FakeExecution({ timeoutSeconds: 7 * 86_400 }).install(sfn);
      // The link was stored with a later expiry than the task's: the task's own timeout still rules.
      const secret = await store.issue({ now: NOW });
      vi.setSystemTime(new Date(SCHEDULED_AT.getTime() + 7 * 86_400_000));

      // Act
      const result = await call(post({ link: secret, decision: 'approve' }));

      // Assess
      expect(result.statusCode).toBe(410);
      expect(result.body).toContain('This disable approval expired at 2026-02-08T09:00:00.000Z');
      expect(execution.successes).toHaveLength(0);
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    });

    it.each([
      ['TaskTimedOut', new TaskTimedOut({ message: `Task Timed Out: '${TOKEN}'`, $metadata: {} })],
      ['InvalidToken', new InvalidToken({ message: 'Invalid Token', $metadata: {} })],
      ['TaskDoesNotExist', new TaskDoesNotExist({ message: 'Task Does Not Exist', $metadata: {} })],
    ])('says the approval expired when %s answers because the timeout came first', async (_name, error) => {
      // Prepare
      const execution = new FakeExecution().install(sfn);
      sfn.on(SendTaskFailureCommand).callsFake(() => {
        // The timeout closed the task between the page's check and this answer.
        execution.end('ExecutionFailed', EXPIRED_AT);
        throw error;
      });
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(post({ link: secret, decision: 'reject' }));

      // Assess
      expect(result.statusCode).toBe(410);
      expect(result.body).toContain(
        'expired at 2026-02-08T09:00:00.000Z; nothing was changed by this answer',
      );
      expect(execution.failures).toHaveLength(0);
      expect(logged.join('')).not.toContain(TOKEN);
    });

    it('refuses a form without a decision', async () => {
      // Prepare
      new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(post({ link: secret }));

      // Assess
      expect(result.statusCode).toBe(400);
      expect(result.body).toContain('Choose Approve or Reject');
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    });

    it('refuses a link whose stored token belongs to another execution', async () => {
      // Prepare
      const execution = new FakeExecution().install(sfn);
      const secret = await store.issue({ now: NOW, taskToken: 'AQCEAAAAother+token/AAAA=' });

      // Act
      const result = await call(post({ link: secret, decision: 'approve' }));

      // Assess
      expect(result.statusCode).toBe(404);
      expect(execution.successes).toHaveLength(0);
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
      expect((await store.recordOf(secret))?.usedAt).toBeUndefined();
    });

    it('decides nothing when the stack names approvers: the page cannot tell who is deciding', async () => {
      // Prepare
      const execution = new FakeExecution({ approvers: ['alice@example.com'] }).install(sfn);
      const secret = await store.issue({ now: NOW });

      // Act
      const result = await call(post({ link: secret, decision: 'approve', by: 'alice@example.com' }));

      // Assess
      expect(result.statusCode).toBe(403);
      expect(result.body).toContain('Nothing was decided');
      expect(execution.successes).toHaveLength(0);
      expect((await store.recordOf(secret))?.usedAt).toBeUndefined();
    });
  });

  it('logs the link fingerprint and the decision with its labels, never the secret or the token', async () => {
    // Prepare
    new FakeExecution().install(sfn);
    const secret = await store.issue({ now: NOW });

    // Act
    await call(get({ link: secret }));
    await call(post({ link: secret, decision: 'approve', by: 'alice' }));

    // Assess
    const output = logged.join('');
    expect(output).toContain(linkFingerprint(secret));
    expect(output).toContain('Decision recorded');
    expect(output).toContain('self-declared name, not verified');
    expect(output).toContain('198.51.100.7');
    expect(output).not.toContain(secret);
    expect(output).not.toContain(linkSecretHash(secret));
    expect(output).not.toContain(TOKEN);
    expect(output).not.toContain(TOKEN.replaceAll('+', ' '));
  });
});
