import {
  approvalOutput,
  crossSiteProblem,
  DEFAULT_DECIDER,
  type DecisionContext,
  deletionDateIfApprovedAt,
  expiredApprovalText,
  type HistoryEventLike,
  isPastExpiry,
  lookupApproval,
  lookupProblem,
  pageDecisionProblem,
  parseApprovalLink,
  parseDecisionForm,
  rejection,
  USED_LINK,
} from '../../../lambdas/domain/approval-page.js';
import { InvalidApprovalLinkError, InvalidDecisionError } from '../../../lambdas/domain/errors.js';
import {
  EXECUTION_ARN,
  FakeExecution,
  KEY_ARN,
  newestFirst,
  pendingRequestOf,
  SCHEDULED_AT,
  TOKEN,
} from '../approval/fake-execution.js';
import {
  APPROVAL_TIMEOUT_DAYS,
  MIN_IDLE_DAYS,
  REQUESTED_BY,
  realisticAssessment,
  realisticExecution,
  startedAt,
} from '../approval/realistic-execution.js';

const NOW = new Date('2026-02-01T10:00:00.000Z');

function pendingRequest(step: 'disable' | 'deletion' = 'disable') {
  return pendingRequestOf(new FakeExecution({ step }));
}

const SECRET = 'TwCZuzeukV5a4SEHDS6ikl9C8H_L2GbKNNXtTGXufK0';

const CONTEXT: DecisionContext = {
  step: 'disable',
  by: 'alice@example.com',
  identity: { kind: 'self-declared' },
  comment: 'checked',
  at: NOW,
  sourceIp: '198.51.100.7',
  userAgent: 'Mozilla/5.0',
};

/** The events up to the approval's own state (the AssessKey task lies further back). */
function approvalOnly(all: HistoryEventLike[]): HistoryEventLike[] {
  const entered = all.findIndex((e) => e.type === 'TaskStateEntered');
  return all.slice(0, entered + 1);
}

describe('parseApprovalLink', () => {
  it('reads only the secret, and restores nothing but white space a mail client wrapped in', () => {
    expect(parseApprovalLink({ link: SECRET, execution: EXECUTION_ARN, token: TOKEN, other: 'x' })).toEqual({
      secret: SECRET,
    });
    expect(parseApprovalLink({ link: `${SECRET.slice(0, 20)}\r\n ${SECRET.slice(20)}` })).toEqual({
      secret: SECRET,
    });
  });

  it.each([
    [{ execution: EXECUTION_ARN, token: TOKEN }, /no approval code/],
    [{ link: TOKEN }, /not one this page issued/],
    [{ link: `${SECRET}A` }, /not one this page issued/],
    [{ link: SECRET.replace('_', '+') }, /not one this page issued/],
    [null, /no approval code/],
  ])('refuses %j: a task token is no link', (query, message) => {
    expect(() => parseApprovalLink(query)).toThrow(InvalidApprovalLinkError);
    expect(() => parseApprovalLink(query)).toThrow(message);
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
      expiresAt: null,
      key: {
        keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
        keyArn: KEY_ARN,
        aliases: ['alias/legacy'],
        description: 'Legacy payments key',
        keyState: 'Enabled',
        tags: {},
      },
      requestedBy: 'ops@example.com',
      reason: 'unused since 2024',
      observationDays: 30,
      pendingWindowInDays: 30,
      minIdleDays: null,
      assessment: {
        assessedAt: null,
        usage: null,
        warnings: [],
        checkIntervalSeconds: null,
        watchPendingWindow: null,
      },
      observation: null,
      reportText: 'No DisabledException in 30 days.',
      approvers: [],
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
    execution.abort();

    // Act / Assess
    expect(lookupApproval(newestFirst(execution), EXECUTION_ARN, TOKEN, true)).toEqual({
      status: 'EXECUTION_ENDED',
      endedBy: 'ExecutionAborted',
    });
  });

  it('says EXPIRED, with when and the key, for a token whose task timed out, whether the run ended or goes on', () => {
    // Prepare
    const at = new Date('2026-02-08T09:00:00.000Z');
    const ended = new FakeExecution();
    ended.end('ExecutionFailed', at);
    const restoring = new FakeExecution({ step: 'deletion' });
    restoring.expire(at);

    // Act / Assess
    expect(lookupApproval(newestFirst(ended), EXECUTION_ARN, TOKEN, true)).toEqual({
      status: 'EXPIRED',
      step: 'disable',
      expiredAt: '2026-02-08T09:00:00.000Z',
      keyArn: KEY_ARN,
    });
    expect(lookupApproval(newestFirst(restoring), EXECUTION_ARN, TOKEN, true)).toMatchObject({
      status: 'EXPIRED',
      step: 'deletion',
    });
  });

  it('reads on through the pages of an ended execution before it says EXECUTION_ENDED', () => {
    // Prepare
    const execution = new FakeExecution();
    execution.end('ExecutionFailed', new Date('2026-02-08T09:00:00.000Z'));
    const newestOnly = newestFirst(execution).slice(0, 2);

    // Act / Assess
    expect(lookupApproval(newestOnly, EXECUTION_ARN, TOKEN, false)).toEqual({ status: 'INCOMPLETE' });
    expect(lookupApproval(newestOnly, EXECUTION_ARN, TOKEN, true)).toMatchObject({
      status: 'EXECUTION_ENDED',
    });
  });

  it('tells a pending request whose timeout has passed, and words the expiry with what to do', () => {
    // Prepare
    const request = { expiresAt: '2026-02-08T09:00:00.000Z' };

    // Act / Assess
    expect(isPastExpiry(request, new Date('2026-02-08T08:59:59.999Z'))).toBe(false);
    expect(isPastExpiry(request, new Date('2026-02-08T09:00:00.000Z'))).toBe(true);
    expect(isPastExpiry({ expiresAt: null }, new Date('2030-01-01T00:00:00Z'))).toBe(false);
    expect(expiredApprovalText({ step: 'deletion', expiredAt: null, keyArn: null })).toBe(
      'This deletion approval expired; nothing was changed by this answer. The execution ended ' +
        'APPROVAL_EXPIRED without scheduling the deletion, and re-enabled the key if it had disabled it. To ' +
        'retire the key, start a new execution (npx kms-deletion-guard start <key ARN>).',
    );
  });

  it('does not accept another token, nor the token on a task that is not an approval', () => {
    // Prepare: the same token on a watch task (a Lambda token task whose payload names no step).
    const events = newestFirst(new FakeExecution());
    const watchTask = events.map((e) =>
      e.type === 'TaskScheduled'
        ? {
            ...e,
            taskScheduledEventDetails: {
              ...e.taskScheduledEventDetails,
              parameters: JSON.stringify({
                FunctionName: 'check',
                Payload: { taskToken: TOKEN, phase: 'OBSERVE' },
              }),
            },
          }
        : e,
    );

    // Act / Assess
    expect(lookupApproval(events, EXECUTION_ARN, `${TOKEN}x`, true)).toEqual({ status: 'NOT_FOUND' });
    expect(lookupApproval(watchTask, EXECUTION_ARN, TOKEN, true)).toEqual({ status: 'NOT_FOUND' });
  });

  it('finds the approval of an execution started before links had secrets (an SNS publish task)', () => {
    // Act
    const request = pendingRequestOf(new FakeExecution({ form: 'sns', step: 'deletion' }));

    // Assess
    expect(request).toMatchObject({ step: 'deletion', stateName: 'RequestDeletionApproval', approvers: [] });
  });

  it('carries the approvers the request names', () => {
    // Act
    const request = pendingRequestOf(new FakeExecution({ approvers: ['alice@example.com'] }));

    // Assess
    expect(request.approvers).toEqual(['alice@example.com']);
    expect(pageDecisionProblem(request)).toMatch(/only its named approvers/);
    expect(pageDecisionProblem(pendingRequest())).toBeNull();
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
  it('reads a browser-encoded form: the link, the decision, the name and the comment, cleaned', () => {
    // Prepare
    const body = new URLSearchParams({
      link: SECRET,
      execution: EXECUTION_ARN,
      token: TOKEN,
      decision: 'reject',
      by: ' Bob\u0007 ',
      comment: 'line 1\r\nline 2\u001b[31m',
    }).toString();

    // Act
    const form = parseDecisionForm(body);

    // Assess: the execution and the token are not read.
    expect(form).toEqual({ decision: 'reject', secret: SECRET, by: 'Bob', comment: 'line 1\nline 2[31m' });
  });

  it('names the page when the person left the name empty', () => {
    const form = parseDecisionForm(`decision=approve&link=${SECRET}`);
    expect(form.by).toBe(DEFAULT_DECIDER);
  });

  it.each([
    [{ decision: 'maybe', link: SECRET }, InvalidDecisionError, /Choose Approve or Reject/],
    [{ decision: 'approve', link: SECRET, by: 'x'.repeat(201) }, InvalidDecisionError, /at most 200/],
    [{ decision: 'approve', link: SECRET, comment: 'x'.repeat(2001) }, InvalidDecisionError, /at most 2000/],
    [
      { decision: 'approve', token: TOKEN, execution: EXECUTION_ARN },
      InvalidApprovalLinkError,
      /no approval code/,
    ],
    [{ decision: 'approve', link: TOKEN }, InvalidApprovalLinkError, /not one this page issued/],
  ])('refuses %j', (fields, error, message) => {
    const body = new URLSearchParams(fields).toString();
    expect(() => parseDecisionForm(body)).toThrow(error);
    expect(() => parseDecisionForm(body)).toThrow(message);
  });
});

describe('decisions', () => {
  it('builds the SendTaskSuccess output: the name as typed, how it is known, and what the request proves', () => {
    expect(approvalOutput(CONTEXT)).toEqual({
      decision: 'approve',
      step: 'disable',
      by: 'alice@example.com',
      identity: { kind: 'self-declared' },
      via: 'approval-page',
      at: '2026-02-01T10:00:00.000Z',
      comment: 'checked',
      sourceIp: '198.51.100.7',
      userAgent: 'Mozilla/5.0',
    });
  });

  it('builds the SendTaskFailure error the workflow catches, with a cause naming who (self-declared), when, from where and why', () => {
    expect(rejection({ ...CONTEXT, comment: '' })).toEqual({
      error: 'ApprovalRejected',
      cause:
        'REJECTED on the approval page by alice@example.com (self-declared name, not verified) at 2026-02-01T10:00:00.000Z from 198.51.100.7, Mozilla/5.0 (no comment)',
    });
  });

  it('dates the deletion pendingWindowInDays after now', () => {
    expect(deletionDateIfApprovedAt(NOW, 7).toISOString()).toBe('2026-02-08T10:00:00.000Z');
  });
});

describe('USED_LINK', () => {
  it('says a used link decided already (409)', () => {
    expect(USED_LINK).toMatchObject({ statusCode: 409, title: 'Already decided' });
  });
});

describe('lookupProblem', () => {
  it.each([
    [{ status: 'DECIDED', step: 'disable', closedBy: 'TaskSucceeded' } as const, 409],
    [{ status: 'EXECUTION_ENDED', endedBy: 'ExecutionFailed' } as const, 410],
    [{ status: 'NOT_FOUND' } as const, 404],
  ])('answers %j with HTTP %i', (lookup, status) => {
    expect(lookupProblem(lookup).statusCode).toBe(status);
  });
});

describe('lookupApproval with a full-size request', () => {
  it('reads the whole assessment, the idle rule from the AssessKey task and when the request expires', () => {
    // Act
    const request = pendingRequestOf(new FakeExecution(realisticExecution('disable', SCHEDULED_AT)));

    // Assess
    const assessment = realisticAssessment(startedAt('disable', SCHEDULED_AT));
    expect(request.minIdleDays).toBe(MIN_IDLE_DAYS);
    expect(request.expiresAt).toBe(
      new Date(SCHEDULED_AT.getTime() + APPROVAL_TIMEOUT_DAYS * 86_400_000).toISOString(),
    );
    expect(request.key).toMatchObject({
      keyState: 'Enabled',
      keySpec: 'SYMMETRIC_DEFAULT',
      account: '111122223333',
      tags: { team: 'payments', 'cost-center': 'CC-4411' },
    });
    // The page keeps what it shows; the usage's explanation sentence is the e-mail's.
    expect(request.assessment).toEqual({
      assessedAt: assessment.assessedAt,
      usage: {
        classification: 'USED',
        keyCreationDate: assessment.usage?.keyCreationDate,
        trackingStartDate: assessment.usage?.trackingStartDate,
        lastUsage: assessment.usage?.lastUsage,
      },
      warnings: assessment.warnings,
      checkIntervalSeconds: 6 * 3600,
      watchPendingWindow: true,
    });
    expect(request.observation).toBeNull();
    expect(request.reportText).toBe(assessment.summaryText);
  });

  it('reads the observation of a deletion request: the disable, the watch and the first approval', () => {
    // Act
    const request = pendingRequestOf(new FakeExecution(realisticExecution('deletion', SCHEDULED_AT)));

    // Assess
    expect(request.observation).toEqual({
      disabledAt: new Date(SCHEDULED_AT.getTime() - 30 * 86_400_000 - 75 * 60_000).toISOString(),
      wasEnabled: true,
      checks: 121,
      scanned: 1_284_113,
      evidenceCount: 0,
      canaries: 3,
      canariesSeen: 3,
      disableApprovedBy: `${REQUESTED_BY} (self-declared name, not verified, from 198.51.100.7)`,
      disableApprovedAt: new Date(SCHEDULED_AT.getTime() - 30 * 86_400_000 - 80 * 60_000).toISOString(),
    });
    expect(request.reportText).toMatch(/^Observation report for KMS key /);
  });

  it('leaves the idle rule unknown when the AssessKey task is not in the events read', () => {
    // Act
    const request = pendingRequestOf(
      new FakeExecution(realisticExecution('disable', SCHEDULED_AT)),
      approvalOnly,
    );

    // Assess
    expect(request.minIdleDays).toBeNull();
    expect(request.assessment?.usage?.classification).toBe('USED');
  });

  it('leaves out the parts of the state it cannot read, and still finds the request', () => {
    // Prepare: a state input whose usage, warnings, tags and watch have other shapes.
    const stateInput = {
      assessment: {
        value: {
          key: { keyId: 'k', keyArn: KEY_ARN, tags: ['not', 'a', 'map'], keyState: 7 },
          usage: { classification: 'SOMETIMES' },
          warnings: 'one long string',
          plan: { checkIntervalSeconds: -1, watchPendingWindow: 'yes' },
        },
      },
      disable: { value: { wasEnabled: 'true' } },
      watch: { value: { checks: 1.5, canaries: 'three' } },
    };

    // Act
    const lookup = lookupApproval(
      newestFirst(new FakeExecution({ step: 'deletion', stateInput })),
      EXECUTION_ARN,
      TOKEN,
      true,
    );

    // Assess
    expect(lookup.status).toBe('PENDING');
    if (lookup.status !== 'PENDING') return;
    expect(lookup.request.key).toEqual({
      keyId: 'k',
      keyArn: KEY_ARN,
      aliases: [],
      description: '',
      tags: {},
    });
    expect(lookup.request.assessment).toEqual({
      assessedAt: null,
      usage: null,
      warnings: [],
      checkIntervalSeconds: null,
      watchPendingWindow: null,
    });
    expect(lookup.request.observation).toBeNull();
  });
});

describe('crossSiteProblem', () => {
  const host = 'abc.execute-api.us-east-1.amazonaws.com';

  it.each([
    [{ origin: `https://${host}`, secFetchSite: 'same-origin', host }],
    [{ origin: null, secFetchSite: 'same-origin', host }],
    [{ origin: `https://${host.toUpperCase()}`, secFetchSite: null, host }],
    [{ origin: null, secFetchSite: null, host: null }],
    [{ origin: null, secFetchSite: 'none', host }],
    // The page sends no referrer, so the browser's own POST says `Origin: null`.
    [{ origin: 'null', secFetchSite: 'same-origin', host }],
  ])('lets the page itself decide: %j', (request) => {
    // Act / Assess
    expect(crossSiteProblem(request)).toBeNull();
  });

  it.each([
    [{ origin: 'https://evil.example', secFetchSite: null, host }, /evil\.example/],
    [{ origin: `https://${host}`, secFetchSite: 'cross-site', host }, /cross-site/],
    [{ origin: 'null', secFetchSite: 'cross-site', host }, /cross-site/],
    [{ origin: `https://${host}`, secFetchSite: 'same-site', host }, /same-site/],
    [{ origin: `https://${host}.evil.example`, secFetchSite: null, host }, /another site/],
    [{ origin: 'null', secFetchSite: null, host }, /does not say/],
    [{ origin: `https://${host}`, secFetchSite: null, host: null }, /does not say/],
  ])('refuses a form another site sent: %j', (request, message) => {
    // Act / Assess
    expect(crossSiteProblem(request)).toMatch(message);
  });
});
