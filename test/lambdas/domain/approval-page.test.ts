import { createHash } from 'node:crypto';
import {
  approvalOutput,
  DEFAULT_DECIDER,
  type DecisionContext,
  deletionDateIfApprovedAt,
  escapeHtml,
  type HistoryEventLike,
  lookupApproval,
  lookupProblem,
  normalizeExecutionArn,
  normalizeToken,
  PAGE_HEADERS,
  parseApprovalLink,
  parseDecisionForm,
  rejection,
  renderApprovalPage,
  renderDecisionPage,
  renderErrorPage,
  tokenFingerprint,
} from '../../../lambdas/domain/approval-page.js';
import { InvalidApprovalLinkError, InvalidDecisionError } from '../../../lambdas/domain/errors.js';
import { EXECUTION_ARN, FakeExecution, KEY_ARN, SCHEDULED_AT, TOKEN } from '../approval/fake-execution.js';

const NOW = new Date('2026-02-01T10:00:00.000Z');

function newestFirst(execution: FakeExecution): HistoryEventLike[] {
  return [...execution.events].reverse();
}

function pendingRequest(step: 'disable' | 'deletion' = 'disable') {
  const lookup = lookupApproval(newestFirst(new FakeExecution({ step })), EXECUTION_ARN, TOKEN, true);
  if (lookup.status !== 'PENDING') throw new Error(`expected PENDING, got ${lookup.status}`);
  return lookup.request;
}

const CONTEXT: DecisionContext = {
  step: 'disable',
  by: 'alice@example.com',
  comment: 'checked',
  at: NOW,
  sourceIp: '198.51.100.7',
  userAgent: 'Mozilla/5.0',
};

describe('normalizeToken', () => {
  it('restores the + that query decoding turned into a space and drops wrapped line breaks', () => {
    expect(normalizeToken('AQC abc/d=')).toBe('AQC+abc/d=');
    expect(normalizeToken('AQC+ab\r\nc=')).toBe('AQC+abc=');
    // A trailing '+' arrives as a trailing space: it must not be trimmed away.
    expect(normalizeToken('abc ')).toBe('abc+');
  });

  it.each([
    ['', /no approval token/],
    ['a"b', /malformed/],
    ['<script>', /malformed/],
    ['x'.repeat(2049), /malformed/],
  ])('refuses %j', (raw, message) => {
    expect(() => normalizeToken(raw)).toThrow(InvalidApprovalLinkError);
    expect(() => normalizeToken(raw)).toThrow(message);
  });
});

describe('normalizeExecutionArn', () => {
  it('accepts a raw execution ARN', () => {
    expect(normalizeExecutionArn(` ${EXECUTION_ARN} `)).toBe(EXECUTION_ARN);
  });

  it.each([
    'arn:aws:states:us-east-1:111122223333:stateMachine:Guard',
    'arn:aws:states:us-east-1:111122223333:execution:Guard',
    'arn:aws:states:us-east-1:111122223333:execution:Guard:<x>',
    'arn:aws:kms:us-east-1:111122223333:key/abc',
    '',
  ])('refuses %j', (raw) => {
    expect(() => normalizeExecutionArn(raw)).toThrow(InvalidApprovalLinkError);
  });
});

describe('parseApprovalLink', () => {
  it('reads only the execution and the token', () => {
    expect(parseApprovalLink({ execution: EXECUTION_ARN, token: 'a b', other: 'x' })).toEqual({
      executionArn: EXECUTION_ARN,
      token: 'a+b',
    });
  });
});

describe('tokenFingerprint', () => {
  it('is short, stable and tells tokens apart without revealing them', () => {
    expect(tokenFingerprint(TOKEN)).toMatch(/^[0-9a-f]{12}$/);
    expect(tokenFingerprint(TOKEN)).toBe(tokenFingerprint(TOKEN));
    expect(tokenFingerprint(TOKEN)).not.toBe(tokenFingerprint(`${TOKEN}x`));
    expect(TOKEN).not.toContain(tokenFingerprint(TOKEN));
  });
});

describe('lookupApproval', () => {
  it('finds the pending request of the token with the key, the step and the report', () => {
    // Act
    const request = pendingRequest('deletion');

    // Assess
    expect(request).toEqual({
      executionArn: EXECUTION_ARN,
      step: 'deletion',
      stateName: 'RequestDeletionApproval',
      requestedAt: SCHEDULED_AT.toISOString(),
      subject: 'Approve disabling KMS key alias/legacy (1234abcd...)',
      key: {
        keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
        keyArn: KEY_ARN,
        aliases: ['alias/legacy'],
        description: 'Legacy payments key',
      },
      requestedBy: 'ops@example.com',
      reason: 'unused since 2024',
      observationDays: 30,
      pendingWindowInDays: 30,
      reportText: 'No DisabledException in 30 days.',
    });
  });

  it('says DECIDED when the task closed after it was scheduled', () => {
    // Prepare
    const execution = new FakeExecution();
    execution.fail({ taskToken: TOKEN, error: 'ApprovalRejected' });

    // Act
    const lookup = lookupApproval(newestFirst(execution), EXECUTION_ARN, TOKEN, true);

    // Assess
    expect(lookup).toEqual({ status: 'DECIDED', step: 'disable', closedBy: 'TaskStateExited' });
  });

  it('says EXECUTION_ENDED when the newest event ends the execution', () => {
    // Prepare
    const execution = new FakeExecution();
    execution.end('ExecutionAborted');

    // Act / Assess
    expect(lookupApproval(newestFirst(execution), EXECUTION_ARN, TOKEN, true)).toEqual({
      status: 'EXECUTION_ENDED',
      endedBy: 'ExecutionAborted',
    });
  });

  it('does not accept another token, nor the token on a task that is not an approval', () => {
    // Prepare
    const events = newestFirst(new FakeExecution());
    const lambdaTask = events.map((e) =>
      e.type === 'TaskScheduled'
        ? { ...e, taskScheduledEventDetails: { ...e.taskScheduledEventDetails, resourceType: 'lambda' } }
        : e,
    );

    // Act / Assess
    expect(lookupApproval(events, EXECUTION_ARN, `${TOKEN}x`, true)).toEqual({ status: 'NOT_FOUND' });
    expect(lookupApproval(lambdaTask, EXECUTION_ARN, TOKEN, true)).toEqual({ status: 'NOT_FOUND' });
  });

  it('asks for more history when the state input is not in the events read, then falls back to the e-mail', () => {
    // Prepare: only the three newest events (TaskSubmitted, TaskStarted, TaskScheduled).
    const events = newestFirst(new FakeExecution()).slice(0, 3);

    // Act
    const partial = lookupApproval(events, EXECUTION_ARN, TOKEN, false);
    const fallback = lookupApproval(events, EXECUTION_ARN, TOKEN, true);

    // Assess
    expect(partial).toEqual({ status: 'INCOMPLETE' });
    expect(fallback).toMatchObject({
      status: 'PENDING',
      request: { step: 'disable', key: null, reportText: 'Summary text' },
    });
  });
});

describe('parseDecisionForm', () => {
  it('reads a browser-encoded form, keeping the + of the token', () => {
    // Prepare
    const body = new URLSearchParams({
      execution: EXECUTION_ARN,
      token: TOKEN,
      decision: 'reject',
      by: ' Bob\u0007 ',
      comment: 'line 1\r\nline 2\u001b[31m',
    }).toString();

    // Act
    const form = parseDecisionForm(body);

    // Assess
    expect(form).toEqual({
      decision: 'reject',
      executionArn: EXECUTION_ARN,
      token: TOKEN,
      by: 'Bob',
      comment: 'line 1\nline 2[31m',
    });
  });

  it('names the page when the person left the name empty', () => {
    const form = parseDecisionForm(`decision=approve&execution=${EXECUTION_ARN}&token=abc`);
    expect(form.by).toBe(DEFAULT_DECIDER);
  });

  it.each([
    [{ decision: 'maybe' }, /Choose Approve or Reject/],
    [{ decision: 'approve', by: 'x'.repeat(201) }, /at most 200/],
    [{ decision: 'approve', comment: 'x'.repeat(2001) }, /at most 2000/],
  ])('refuses %j', (fields, message) => {
    const body = new URLSearchParams({ execution: EXECUTION_ARN, token: TOKEN, ...fields }).toString();
    expect(() => parseDecisionForm(body)).toThrow(InvalidDecisionError);
    expect(() => parseDecisionForm(body)).toThrow(message);
  });
});

describe('decisions', () => {
  it('builds the SendTaskSuccess output', () => {
    expect(approvalOutput(CONTEXT)).toEqual({
      decision: 'approve',
      step: 'disable',
      by: 'alice@example.com',
      at: '2026-02-01T10:00:00.000Z',
      comment: 'checked',
      sourceIp: '198.51.100.7',
      userAgent: 'Mozilla/5.0',
    });
  });

  it('builds the SendTaskFailure error the workflow catches, with a cause naming who, when and why', () => {
    expect(rejection({ ...CONTEXT, comment: '' })).toEqual({
      error: 'ApprovalRejected',
      cause:
        'REJECTED on the approval page by alice@example.com at 2026-02-01T10:00:00.000Z from 198.51.100.7 (no comment)',
    });
  });

  it('dates the deletion pendingWindowInDays after now', () => {
    expect(deletionDateIfApprovedAt(NOW, 7).toISOString()).toBe('2026-02-08T10:00:00.000Z');
  });
});

describe('HTML', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('renders an accessible page with a POST form and no script', () => {
    // Act
    const html = renderApprovalPage(pendingRequest('disable'), TOKEN, NOW);

    // Assess
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain('<h1>Approve disabling a KMS key?</h1>');
    expect(html).toContain('<th scope="row">Key ARN</th>');
    expect(html).toContain('<label for="by">Your name or e-mail</label>');
    expect(html).toContain('<input type="text" id="by" name="by"');
    expect(html).toContain('<label for="comment">Comment (optional)</label>');
    expect(html).toContain('<form method="post" action="?"');
    expect(html).toContain('name="decision" value="approve"');
    expect(html).toContain('name="decision" value="reject"');
    expect(html).toContain(`<input type="hidden" name="execution" value="${EXECUTION_ARN}">`);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('watch CloudTrail for 30 days');
  });

  it('allows exactly its own stylesheet in the Content-Security-Policy', () => {
    // Prepare
    const html = renderApprovalPage(pendingRequest(), TOKEN, NOW);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';

    // Act
    const hash = createHash('sha256').update(style).digest('base64');

    // Assess
    expect(PAGE_HEADERS['Content-Security-Policy']).toContain(`style-src 'sha256-${hash}'`);
    expect(PAGE_HEADERS['Content-Security-Policy']).toContain("default-src 'none'");
    expect(PAGE_HEADERS['Content-Security-Policy']).toContain("frame-ancestors 'none'");
  });

  it('says what happens next after a decision', () => {
    expect(renderDecisionPage('approve', CONTEXT)).toContain('disables the key');
    expect(renderDecisionPage('reject', CONTEXT)).toContain('the key was not changed');
    expect(renderDecisionPage('reject', { ...CONTEXT, step: 'deletion' })).toContain('re-enables the key');
    expect(renderDecisionPage('approve', { ...CONTEXT, by: '<b>x</b>' })).toContain('&lt;b&gt;x&lt;/b&gt;');
  });

  it('escapes error pages', () => {
    expect(renderErrorPage('<t>', '<m>')).toContain('<h1>&lt;t&gt;</h1>');
  });

  it.each([
    [{ status: 'DECIDED', step: 'disable', closedBy: 'TaskSucceeded' } as const, 409],
    [{ status: 'EXECUTION_ENDED', endedBy: 'ExecutionFailed' } as const, 410],
    [{ status: 'NOT_FOUND' } as const, 404],
  ])('answers %j with HTTP %i', (lookup, status) => {
    expect(lookupProblem(lookup).statusCode).toBe(status);
  });
});
