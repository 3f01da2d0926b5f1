import { createHash } from 'node:crypto';
import type {
  ApprovalRequest,
  ApprovalUsage,
  DecisionContext,
  HistoryEventLike,
} from '../../../lambdas/domain/approval-page.js';
import {
  daysAgo,
  escapeHtml,
  idleSince,
  PAGE_HEADERS,
  renderApprovalPage,
  renderDecisionPage,
  renderErrorPage,
  renderTextSections,
} from '../../../lambdas/domain/approval-page-html.js';
import {
  FakeExecution,
  KEY_ARN,
  pendingRequestOf,
  SCHEDULED_AT,
  type Step,
} from '../approval/fake-execution.js';
import {
  LAST_USE_DAYS_BEFORE,
  MIN_IDLE_DAYS,
  realisticAssessment,
  realisticExecution,
  startedAt,
} from '../approval/realistic-execution.js';

const NOW = new Date('2026-02-01T10:00:00.000Z');

function pendingRequest(step: 'disable' | 'deletion' = 'disable') {
  return pendingRequestOf(new FakeExecution({ step }));
}

/** The request of a FakeExecution with a full-size assessment, sent an hour before NOW. */
function realisticRequest(
  step: Step,
  events?: (all: HistoryEventLike[]) => HistoryEventLike[],
): ApprovalRequest {
  return pendingRequestOf(new FakeExecution(realisticExecution(step, SCHEDULED_AT)), events);
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

function withUsage(request: ApprovalRequest, usage: ApprovalUsage): ApprovalRequest {
  if (!request.assessment) throw new Error('expected an assessment');
  return { ...request, assessment: { ...request.assessment, usage } };
}

/** The text a reader sees in an HTML fragment: tags dropped, entities restored, spaces collapsed. */
function visibleText(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&')
    .replace(/\s+/g, ' ')
    .replace(/ ([;,.)])/g, '$1');
}

function positions(html: string, needles: readonly string[]): number[] {
  return needles.map((needle) => html.indexOf(needle));
}

describe('HTML', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it('renders an accessible page with a POST form and no script', () => {
    // Act
    const html = renderApprovalPage(pendingRequest('disable'), SECRET, NOW);

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
    expect(html).toContain(`<input type="hidden" name="link" value="${SECRET}">`);
    expect(html).not.toContain('name="token"');
    expect(html).toContain('marked self-declared (nothing verifies it)');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('watch CloudTrail for 30 days');
  });

  it('allows exactly its own stylesheet in the Content-Security-Policy', () => {
    // Prepare
    const html = renderApprovalPage(pendingRequest(), SECRET, NOW);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';

    // Act
    const hash = createHash('sha256').update(style).digest('base64');

    // Assess
    expect(PAGE_HEADERS['Content-Security-Policy']).toContain(`style-src 'sha256-${hash}'`);
    expect(PAGE_HEADERS['Content-Security-Policy']).toContain("default-src 'none'");
    expect(PAGE_HEADERS['Content-Security-Policy']).toContain("frame-ancestors 'none'");
  });

  it('shows the request without a form, and why, where the page may not decide', () => {
    // Act
    const html = renderApprovalPage(pendingRequest('disable'), SECRET, NOW, {
      canDecide: false,
      reason: 'Decide with the CLI <here>.',
    });

    // Assess
    expect(html).not.toContain('<form');
    expect(html).not.toContain(SECRET);
    expect(html).toContain('Decide with the CLI &lt;here&gt;.');
    expect(html).toContain('<h1>Approve disabling a KMS key?</h1>');
  });

  it('names the decider as typed, labelled self-declared, with where the request came from', () => {
    // Act
    const html = renderDecisionPage('approve', CONTEXT);

    // Assess
    expect(html).toContain('alice@example.com (self-declared name, not verified)');
    expect(html).toContain('198.51.100.7, Mozilla/5.0');
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
});

describe('idleSince', () => {
  const base = {
    trackingStartDate: '2025-06-01T00:00:00.000Z',
    keyCreationDate: '2020-01-01T00:00:00.000Z',
    lastUsage: null,
  };

  it.each([
    [
      {
        ...base,
        classification: 'USED',
        lastUsage: { operation: 'Decrypt', timestamp: '2025-09-01T00:00:00.000Z' },
      },
      { since: '2025-09-01T00:00:00.000Z', basis: 'its last use' },
    ],
    [
      { ...base, classification: 'NEVER_USED', keyCreationDate: '2025-07-01T00:00:00.000Z' },
      { since: '2025-07-01T00:00:00.000Z', basis: 'its creation' },
    ],
    [
      {
        ...base,
        classification: 'UNKNOWN_BEFORE_TRACKING',
        historySearch: {
          searchedFrom: '2024-06-01T00:00:00.000Z',
          searchedTo: base.trackingStartDate,
          lastUseFound: { eventName: 'Encrypt', eventTime: '2024-12-24T00:00:00.000Z', eventID: 'e1' },
        },
      },
      { since: '2024-12-24T00:00:00.000Z', basis: 'its last use found in CloudTrail' },
    ],
    [
      {
        ...base,
        classification: 'UNKNOWN_BEFORE_TRACKING',
        historySearch: {
          searchedFrom: '2024-06-01T00:00:00.000Z',
          searchedTo: base.trackingStartDate,
          lastUseFound: null,
        },
      },
      { since: '2024-06-01T00:00:00.000Z', basis: 'the start of the history that could be searched' },
    ],
    [
      { ...base, classification: 'UNKNOWN_BEFORE_TRACKING' },
      { since: base.trackingStartDate, basis: 'the start of usage tracking' },
    ],
  ] as const)('counts %j from its evidence', (usage, expected) => {
    expect(idleSince(usage as ApprovalUsage)).toEqual(expected);
  });
});

describe('daysAgo', () => {
  it.each([
    ['2026-02-01T09:00:00.000Z', 'today'],
    ['2026-01-31T09:00:00.000Z', '1 day ago'],
    ['2025-10-01T10:00:00.000Z', '123 days ago'],
    ['2026-02-08T10:00:00.000Z', 'in 7 days'],
    ['not a time', null],
  ])('says %s is %j from NOW', (from, expected) => {
    expect(daysAgo(from, NOW)).toBe(expected);
  });
});

describe('renderApprovalPage with a full-size request', () => {
  it('puts the decision first: what Approve, Reject and no answer do, then the form with both buttons', () => {
    // Act
    const html = renderApprovalPage(realisticRequest('disable'), SECRET, NOW);

    // Assess: in document order the decision comes before the assessment.
    const order = positions(html, [
      '<h1>Approve disabling a KMS key?</h1>',
      'id="decision-heading"',
      '<dt>If you approve</dt>',
      '<dt>If you reject</dt>',
      '<dt>No answer by 2026-02-08 09:00 UTC</dt>',
      '<form method="post"',
      'value="approve"',
      'value="reject"',
      'id="warnings-heading"',
    ]);
    expect(order.every((at) => at >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const text = visibleText(html);
    expect(text).toContain(
      'Disable the key now, then watch CloudTrail for 30 days for any caller that still needs it. Nothing is deleted at this step',
    );
    expect(text).toContain('The workflow ends. Nothing is changed on the key.');
    expect(text).toContain('The request expires, the workflow ends and nothing is changed on the key.');
    expect(text).toContain('Opening this page decided nothing.');
  });

  it('shows the assessment as sections: warnings first, usage against the idle rule, the key, the request', () => {
    // Act
    const html = renderApprovalPage(realisticRequest('disable'), SECRET, NOW);

    // Assess
    const order = positions(html, [
      'id="warnings-heading">Warnings (2)</h2>',
      'id="usage-heading"',
      'id="key-heading"',
      'id="protects-heading"',
      'id="request-heading"',
      '<details',
    ]);
    expect(order.every((at) => at >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    const text = visibleText(html);
    expect(text).toContain(`Decrypt, ${formatDay(LAST_USE_DAYS_BEFORE)}`);
    expect(text).toContain(`(${LAST_USE_DAYS_BEFORE} days ago)`);
    expect(text).toContain(
      `Idle for ${LAST_USE_DAYS_BEFORE} days, since its last use. The idle rule (minIdleDays ${MIN_IDLE_DAYS}) is met.`,
    );
    expect(text).toContain('single-Region trail of us-east-1');
    expect(html).toContain('<dt><code>cost-center</code></dt><dd>CC-4411</dd>');
    expect(html).toContain('<th scope="row">Spec / usage</th><td>SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT</td>');
    expect(html).toContain('<th scope="row">Requested by</th><td>maria.lopez@example.com</td>');
    expect(text).toContain('does not read which resources hold data encrypted under the key');
    // The e-mail itself is kept, folded, and is no longer the page's body.
    expect(html).toMatch(
      /<details class="card">\n<summary>The assessment e-mail as sent<\/summary>\n<pre>Approval needed/,
    );
    expect(html).not.toMatch(/<script/i);
  });

  it('says when the idle rule is not met, and where the idle time is counted from', () => {
    // Prepare
    const request = realisticRequest('disable');
    const young = withUsage(request, {
      classification: 'NEVER_USED',
      keyCreationDate: '2026-01-12T08:00:00.000Z',
      trackingStartDate: '2025-06-01T00:00:00.000Z',
      lastUsage: null,
    });
    const unknown = withUsage(
      { ...request, minIdleDays: null },
      {
        classification: 'UNKNOWN_BEFORE_TRACKING',
        keyCreationDate: '2019-03-01T00:00:00.000Z',
        trackingStartDate: '2025-06-01T00:00:00.000Z',
        lastUsage: null,
        historySearch: {
          searchedFrom: '2025-02-01T00:00:00.000Z',
          searchedTo: '2025-06-01T00:00:00.000Z',
          lastUseFound: null,
        },
      },
    );

    // Act
    const youngText = visibleText(renderApprovalPage(young, SECRET, NOW));
    const unknownText = visibleText(renderApprovalPage(unknown, SECRET, NOW));

    // Assess
    expect(youngText).toContain('None: never used since the key was created.');
    expect(youngText).toContain(
      `Idle for 20 days, since its creation. That is less than the idle rule's ${MIN_IDLE_DAYS} days (minIdleDays): see the warnings.`,
    );
    expect(unknownText).toContain(
      'None since tracking began on 2025-06-01 00:00 UTC; KMS does not know about use before then.',
    );
    expect(unknownText).toContain(
      'No successful use in the CloudTrail log group from 2025-02-01 00:00 UTC to 2025-06-01 00:00 UTC',
    );
    expect(unknownText).toContain(
      'Idle for 365 days, since the start of the history that could be searched.',
    );
    expect(unknownText).not.toContain('idle rule');
  });

  it('says that an already Disabled key stays disabled whatever the watch finds', () => {
    // Prepare
    const request = realisticRequest('disable');
    const disabled = { ...request, key: request.key && { ...request.key, keyState: 'Disabled' } };

    // Act
    const text = visibleText(renderApprovalPage(disabled, SECRET, NOW));

    // Assess
    expect(text).toContain('The key is already Disabled: keep it so, then watch CloudTrail for 30 days');
    expect(text).toContain('leaves the key disabled (it re-enables only keys it disabled)');
  });

  it('escapes every value taken from the assessment', () => {
    // Prepare
    const evil = '<img src=x onerror=alert(1)>';
    const request = realisticRequest('disable');
    const hostile = withUsage(
      {
        ...request,
        requestedBy: evil,
        reason: `${evil}\nsecond line`,
        key: request.key && {
          ...request.key,
          description: evil,
          keyState: evil,
          tags: { [evil]: evil },
          aliases: [`alias/${evil}`],
        },
        assessment: request.assessment && { ...request.assessment, warnings: [evil] },
      },
      {
        classification: 'USED',
        keyCreationDate: evil,
        trackingStartDate: evil,
        lastUsage: { operation: evil, timestamp: evil, cloudTrailEventId: evil },
      },
    );

    // Act
    const html = renderApprovalPage(hostile, SECRET, NOW);

    // Assess
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toMatch(/<script/i);
  });

  it('states for the deletion step what the watch saw and what Reject restores', () => {
    // Act
    const html = renderApprovalPage(realisticRequest('deletion'), SECRET, NOW);

    // Assess
    const text = visibleText(html);
    expect(html.indexOf('id="observation-heading"')).toBeLessThan(html.indexOf('id="warnings-heading"'));
    expect(html).toContain('id="warnings-heading">Warnings at the assessment (2)</h2>');
    expect(text).toContain('Disabled since 2026-01-02 07:45 UTC (30 days ago)');
    expect(text).toContain('Records scanned 1,284,113 CloudTrail records');
    expect(text).toContain('Failed calls None: no DisabledException on this key.');
    expect(text).toContain('Final usage check Last successful use Decrypt at');
    expect(text).toContain(
      '3 of 3 test calls the workflow made on the disabled key showed up in the log group.',
    );
    expect(text).toContain(
      'Disable approved by maria.lopez@example.com (self-declared name, not verified, from 198.51.100.7), 2026-01-02 07:40 UTC',
    );
    expect(html).toContain('<time datetime="2026-03-03T10:00:00.000Z">2026-03-03 10:00 UTC</time>');
    expect(text).toContain('Until then the workflow keeps watching and cancels the deletion');
    expect(text).toContain(
      'No deletion is scheduled: the workflow ends and re-enables the key, which was Enabled before this execution disabled it.',
    );
    expect(text).toContain('No answer by 2026-02-08 09:00 UTC The same as Reject.');
    expect(text).toContain('Once KMS deletes the key, such data can never be decrypted again.');
    expect(html).toContain('class="approve destructive"');
  });

  it.each([
    [
      false,
      'No deletion is scheduled: the workflow ends. The key was already Disabled before this execution, so it stays Disabled.',
    ],
    [
      null,
      'No deletion is scheduled: the workflow ends and re-enables the key if this execution disabled it',
    ],
  ])('says what Reject does when the key was enabled before: %j', (wasEnabled, expected) => {
    // Prepare
    const request = realisticRequest('deletion');
    const changed = {
      ...request,
      observation: request.observation && { ...request.observation, wasEnabled },
    };

    // Act / Assess
    expect(visibleText(renderApprovalPage(changed, SECRET, NOW))).toContain(expected);
  });

  it('says when the pending window is not watched', () => {
    // Prepare
    const request = realisticRequest('deletion');
    const unwatched = {
      ...request,
      assessment: request.assessment && { ...request.assessment, watchPendingWindow: false },
    };

    // Act / Assess
    expect(visibleText(renderApprovalPage(unwatched, SECRET, NOW))).toContain(
      'This stack does not watch the pending window: cancel by hand (CancelKeyDeletion) if something breaks.',
    );
  });

  it('shows the report text when the state carries no observation facts', () => {
    // Act
    const html = renderApprovalPage(pendingRequest('deletion'), SECRET, NOW);

    // Assess
    expect(html).toContain('<h2 id="report-heading">Observation report</h2>');
    expect(html).toContain('<p>No DisabledException in 30 days.</p>');
    expect(html).not.toContain('id="observation-heading"');
  });

  it('shows the e-mail text in sections when the state input is gone', () => {
    // Prepare: only the approval's TaskScheduled and newer; the state input is not among them.
    const request = realisticRequest('disable', (all) => all.slice(0, 3));

    // Act
    const html = renderApprovalPage(request, SECRET, NOW);

    // Assess
    expect(request.key).toBeNull();
    expect(html).toContain('<h2 id="report-heading">Assessment</h2>');
    expect(html).toContain('<h3>WARNINGS</h3>');
    expect(html).toContain(`<th scope="row">Key ARN</th><td><span class="text">${KEY_ARN}</span></td>`);
    expect(html).not.toContain('<pre>');
    expect(html).toContain('No answer by 2026-02-08 09:00 UTC');
  });
});

describe('renderTextSections', () => {
  it('turns the assessment e-mail into headed sections, rows and list items, keeping every word', () => {
    // Prepare
    const text = realisticAssessment(startedAt('disable', SCHEDULED_AT)).summaryText;

    // Act
    const html = renderTextSections(text);

    // Assess
    for (const heading of [
      'KEY',
      'USAGE (GetKeyLastUsage)',
      'WARNINGS',
      'PLAN',
      'REQUEST',
      'HOW TO ANSWER',
    ]) {
      expect(html).toContain(`<h3>${escapeHtml(heading)}</h3>`);
    }
    expect(html).toContain('<th scope="row">Key ID</th>');
    expect(html.match(/<li>CloudTrail setup:/g)).toHaveLength(2);
    // Hard-wrapped lines are one paragraph again.
    expect(html).toContain(
      '<p>kms-deletion-guard asks whether it may DISABLE this KMS key and watch CloudTrail for callers that still need it. Nothing is deleted at this step.</p>',
    );
    // A `Label:` line becomes a row: the label loses its colon, every word stays.
    const shown = visibleText(html);
    for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
      expect(shown).toContain(word.replace(/:$/, ''));
    }
  });

  it('keeps the lines of a multi-line value and escapes everything', () => {
    // Act
    const html = renderTextSections(
      'REQUEST\n  Reason:\n    <b>first</b>\n    second\n  Requested by:   x & y',
    );

    // Assess
    expect(html).toContain(
      '<tr><th scope="row">Reason</th><td><span class="text">&lt;b&gt;first&lt;/b&gt;\nsecond</span></td></tr>',
    );
    expect(html).toContain(
      '<tr><th scope="row">Requested by</th><td><span class="text">x &amp; y</span></td></tr>',
    );
  });
});

describe('renderDecisionPage after a rejected deletion', () => {
  it.each([
    [true, 'No deletion is scheduled: the workflow ends and re-enables the key it disabled.'],
    [
      false,
      'No deletion is scheduled: the workflow ends, and the key stays Disabled, as it was before this execution.',
    ],
  ])('says what happens to a key whose wasEnabled is %j', (wasEnabled, expected) => {
    // Prepare
    const request = realisticRequest('deletion');
    const changed = {
      ...request,
      observation: request.observation && { ...request.observation, wasEnabled },
    };

    // Act
    const html = renderDecisionPage('reject', { ...CONTEXT, step: 'deletion' }, changed);

    // Assess
    expect(html).toContain(escapeHtml(expected));
  });
});

/** The UTC day of the realistic key's last use, as the page prints it. */
function formatDay(daysBefore: number): string {
  const at = new Date(SCHEDULED_AT.getTime() - daysBefore * 86_400_000 - 3 * 3_600_000);
  return at.toISOString().slice(0, 10);
}
