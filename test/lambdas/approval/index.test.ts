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
  // INFO, so the test can read what the handler logs and prove the token is not in it.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  process.env.AWS_REGION = 'us-east-1';
});

import { handler, type ProxyResult } from '../../../lambdas/approval/index.js';
import { tokenFingerprint } from '../../../lambdas/domain/approval-page.js';
import { EXECUTION_ARN, FakeExecution, KEY_ARN, SCHEDULED_AT, TOKEN } from './fake-execution.js';
import { MIN_IDLE_DAYS, realisticExecution } from './realistic-execution.js';

const NOW = new Date('2026-02-01T10:00:00.000Z');
const EXPIRED_AT = new Date('2026-02-08T09:00:00.000Z');
const sfn = mockClient(SFNClient);
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

function post(fields: Record<string, string>, base64 = false): Record<string, unknown> {
  const body = new URLSearchParams(fields).toString();
  return {
    ...get(null),
    httpMethod: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'User-Agent': 'Mozilla/5.0 test' },
    body: base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
  };
}

/** What a browser sends for the link: API Gateway decodes the query, turning the raw '+' into ' '. */
function linkQuery(token = TOKEN): Record<string, string> {
  return { execution: EXECUTION_ARN, token: token.replaceAll('+', ' ') };
}

async function call(event: Record<string, unknown>): Promise<ProxyResult> {
  return handler(event);
}

describe('approval handler', () => {
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

      // Act
      const result = await call(get(linkQuery()));

      // Assess
      expect(result.statusCode).toBe(200);
      expect(result.headers['Content-Type']).toBe('text/html; charset=utf-8');
      expect(result.headers['Referrer-Policy']).toBe('no-referrer');
      expect(result.body).toContain(KEY_ARN);
      expect(result.body).toContain('alias/legacy');
      expect(result.body).toContain('Legacy payments key');
      expect(result.body).toContain('Approve disabling a KMS key?');
      expect(result.body).toContain('Key alias/legacy was last used on 2024-05-01 (Decrypt).');
      // The restored token (with '+') goes into the form, so the POST answers the right task.
      expect(result.body).toContain(`name="token" value="${TOKEN}"`);
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
      expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
      expect(sfn.commandCalls(GetExecutionHistoryCommand)[0]?.args[0].input).toMatchObject({
        executionArn: EXECUTION_ARN,
        reverseOrder: true,
        includeExecutionData: true,
      });
    });

    it('shows the date the key would be deleted for the deletion step', async () => {
      // Prepare
      new FakeExecution({ step: 'deletion' }).install(sfn);

      // Act
      const result = await call(get(linkQuery()));

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

      // Act
      const result = await call(get(linkQuery()));

      // Assess
      expect(result.body).not.toContain('<img');
      expect(result.body).not.toContain('<script');
      expect(result.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(result.body).toContain('alias/&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;');
      expect(result.body).toContain('used by &lt;b&gt;nobody&lt;/b&gt; &amp; co');
    });

    it('answers 404 for a token that belongs to no approval of the execution', async () => {
      // Prepare
      new FakeExecution().install(sfn);

      // Act
      const result = await call(get(linkQuery('AQCEAAAAother+token/AAAA=')));

      // Assess
      expect(result.statusCode).toBe(404);
      expect(result.body).toContain('Approval request not found');
      expect(result.body).not.toContain('name="token"');
    });

    it('answers 404 for an execution of another state machine, without a stack trace', async () => {
      // Prepare
      new FakeExecution().install(sfn);

      // Act
      const result = await call(
        get({ execution: EXECUTION_ARN.replace('kdg-legacy', 'someone-else'), token: TOKEN }),
      );

      // Assess
      expect(result.statusCode).toBe(404);
      expect(result.body).not.toMatch(/\bat .*\.ts:\d+/);
    });

    it('answers 409 once the request was decided', async () => {
      // Prepare
      const execution = new FakeExecution().install(sfn);
      execution.succeed({ taskToken: TOKEN, output: '{}' });

      // Act
      const result = await call(get(linkQuery()));

      // Assess
      expect(result.statusCode).toBe(409);
      expect(result.body).toContain('already decided');
    });

    it('answers 410 when the execution has ended without the approval timing out', async () => {
      // Prepare
      new FakeExecution().install(sfn).abort();

      // Act
      const result = await call(get(linkQuery()));

      // Assess
      expect(result.statusCode).toBe(410);
      expect(result.body).toContain('Workflow already ended');
    });

    it('says when an approval that timed out expired, that nothing was changed, and to start again', async () => {
      // Prepare
      new FakeExecution().install(sfn).end('ExecutionFailed', EXPIRED_AT);

      // Act
      const result = await call(get(linkQuery()));

      // Assess
      expect(result.statusCode).toBe(410);
      expect(result.body).toContain('This approval expired');
      expect(result.body).toContain(
        'This disable approval expired at 2026-02-08T09:00:00.000Z; nothing was changed by this answer.',
      );
      expect(result.body).toContain('before it disabled the key, which stays as it was');
      expect(result.body).toContain(`start a new execution (npx kms-deletion-guard start ${KEY_ARN})`);
      expect(result.body).not.toContain('name="token"');
    });

    it.each([
      [{ execution: EXECUTION_ARN, token: '<script>' }, /approval token in the link is malformed/],
      [{ execution: EXECUTION_ARN }, /no approval token/],
      [{ execution: 'arn:aws:states:us-east-1:111122223333:stateMachine:X', token: TOKEN }, /not a Step/],
      [null, /does not name the workflow execution/],
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

      // Act
      const result = await call(get(linkQuery()));

      // Assess
      expect(result.statusCode).toBe(503);
      expect(result.body).toContain('Nothing was decided');
      expect(result.body).not.toContain('Rate exceeded');
    });

    it('finds the approval across history pages', async () => {
      // Prepare: pages of 3 events, so the approval task's state input is on the second page.
      const execution = new FakeExecution({ padding: 10 }).install(sfn);
      sfn.on(GetExecutionHistoryCommand).callsFake((input) => execution.history({ ...input, maxResults: 3 }));

      // Act
      const result = await call(get(linkQuery()));

      // Assess: page 1 has the TaskScheduled but not its TaskStateEntered; page 2 completes it, and
      // the older pages are not read.
      expect(result.statusCode).toBe(200);
      expect(result.body).toContain(KEY_ARN);
      expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(2);
    });

    it('shows a full-size request with the decision first and the assessment in sections', async () => {
      // Prepare
      new FakeExecution(realisticExecution('disable', SCHEDULED_AT)).install(sfn);

      // Act
      const result = await call(get(linkQuery()));

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
      expect(result.body).toContain(`name="token" value="${TOKEN}"`);
      expect(result.body).not.toMatch(/<script/i);
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
      expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    });

    it('answers 405 to other methods', async () => {
      // Act
      const result = await call({ ...get(linkQuery()), httpMethod: 'PUT' });

      // Assess
      expect(result.statusCode).toBe(405);
      expect(result.headers.Allow).toBe('GET, POST');
    });
  });

  describe('POST from another site', () => {
    const approve = { execution: EXECUTION_ARN, token: TOKEN, decision: 'approve', by: 'mallory' };

    function withHeaders(headers: Record<string, string>): Record<string, unknown> {
      const event = post(approve);
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
      const result = await call(withHeaders(headers));

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
        withHeaders({
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
    it('approves with SendTaskSuccess and records who, when, the comment and the client', async () => {
      // Prepare
      const execution = new FakeExecution().install(sfn);

      // Act
      const result = await call(
        post({
          execution: EXECUTION_ARN,
          token: TOKEN,
          decision: 'approve',
          by: 'alice@example.com',
          comment: 'checked with payments',
        }),
      );

      // Assess
      expect(result.statusCode).toBe(200);
      expect(result.body).toContain('Approved');
      expect(execution.successes).toHaveLength(1);
      expect(execution.successes[0]?.taskToken).toBe(TOKEN);
      expect(JSON.parse(execution.successes[0]?.output ?? '')).toEqual({
        decision: 'approve',
        step: 'disable',
        by: 'alice@example.com',
        at: NOW.toISOString(),
        comment: 'checked with payments',
        sourceIp: '198.51.100.7',
        userAgent: 'Mozilla/5.0 test',
      });
      expect(execution.failures).toHaveLength(0);
    });

    it('rejects with SendTaskFailure ApprovalRejected and a cause naming who, when and why', async () => {
      // Prepare
      const execution = new FakeExecution({ step: 'deletion' }).install(sfn);

      // Act
      const result = await call(
        post({
          execution: EXECUTION_ARN,
          token: TOKEN,
          decision: 'reject',
          by: 'bob',
          comment: 'still in use',
        }),
      );

      // Assess
      expect(result.statusCode).toBe(200);
      expect(result.body).toContain('re-enables the key');
      expect(execution.failures).toEqual([
        {
          taskToken: TOKEN,
          error: 'ApprovalRejected',
          cause: `REJECTED on the approval page by bob at ${NOW.toISOString()} from 198.51.100.7: still in use`,
        },
      ]);
      expect(execution.successes).toHaveLength(0);
    });

    it('says after rejecting a deletion that the key it disabled is re-enabled', async () => {
      // Prepare: the execution recorded that the key was Enabled before it disabled it.
      const execution = new FakeExecution(realisticExecution('deletion', SCHEDULED_AT)).install(sfn);

      // Act
      const result = await call(
        post({ execution: EXECUTION_ARN, token: TOKEN, decision: 'reject', by: 'bob' }),
      );

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

      // Act
      await call(post({ execution: EXECUTION_ARN, token: TOKEN, decision: 'approve', by: ' ' }, true));

      // Assess
      expect(JSON.parse(execution.successes[0]?.output ?? '')).toMatchObject({ by: 'approval page' });
      expect(JSON.parse(execution.successes[0]?.output ?? '')).not.toHaveProperty('comment');
    });

    it('shows "already decided" on a second submit and sends nothing more', async () => {
      // Prepare
      const execution = new FakeExecution().install(sfn);
      const form = { execution: EXECUTION_ARN, token: TOKEN, decision: 'approve', by: 'alice' };
      await call(post(form));

      // Act
      const second = await call(post({ ...form, decision: 'reject' }));

      // Assess
      expect(second.statusCode).toBe(409);
      expect(second.body).toContain('already decided');
      expect(execution.successes).toHaveLength(1);
      expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    });

    it('answers 409 when the task closes between the check and the answer', async () => {
      // Prepare
      new FakeExecution().install(sfn);
      sfn
        .on(SendTaskSuccessCommand)
        .rejects(new TaskTimedOut({ message: `Task Timed Out: '${TOKEN}'`, $metadata: {} }));

      // Act
      const result = await call(post({ execution: EXECUTION_ARN, token: TOKEN, decision: 'approve' }));

      // Assess
      expect(result.statusCode).toBe(409);
      expect(result.body).toContain('Already decided');
      expect(logged.join('')).not.toContain(TOKEN);
    });

    it('changes nothing when answered after the approval timed out, and says when it expired', async () => {
      // Prepare
      new FakeExecution({ step: 'deletion' }).install(sfn).expire(EXPIRED_AT);

      // Act
      const approved = await call(post({ execution: EXECUTION_ARN, token: TOKEN, decision: 'approve' }));
      const rejected = await call(post({ execution: EXECUTION_ARN, token: TOKEN, decision: 'reject' }));

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
      vi.setSystemTime(new Date(SCHEDULED_AT.getTime() + 7 * 86_400_000));

      // Act
      const result = await call(post({ execution: EXECUTION_ARN, token: TOKEN, decision: 'approve' }));

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

      // Act
      const result = await call(post({ execution: EXECUTION_ARN, token: TOKEN, decision: 'reject' }));

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

      // Act
      const result = await call(post({ execution: EXECUTION_ARN, token: TOKEN }));

      // Assess
      expect(result.statusCode).toBe(400);
      expect(result.body).toContain('Choose Approve or Reject');
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    });

    it('refuses a token that belongs to another execution', async () => {
      // Prepare
      const execution = new FakeExecution().install(sfn);

      // Act
      const result = await call(
        post({ execution: EXECUTION_ARN, token: 'AQCEAAAAother+token/AAAA=', decision: 'approve' }),
      );

      // Assess
      expect(result.statusCode).toBe(404);
      expect(execution.successes).toHaveLength(0);
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    });
  });

  it('logs a fingerprint of the token, never the token', async () => {
    // Prepare
    new FakeExecution().install(sfn);

    // Act
    await call(get(linkQuery()));
    await call(post({ execution: EXECUTION_ARN, token: TOKEN, decision: 'approve', by: 'alice' }));

    // Assess
    const output = logged.join('');
    expect(output).toContain(tokenFingerprint(TOKEN));
    expect(output).toContain('Decision recorded');
    expect(output).not.toContain(TOKEN);
    expect(output).not.toContain(TOKEN.replaceAll('+', ' '));
  });
});
