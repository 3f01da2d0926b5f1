import { LINK_PARAGRAPH } from '../../../lambdas/domain/approval-page.js';
import { approvalMessage } from '../../../lambdas/domain/approval-request.js';

const LINK =
  'https://abc.execute-api.us-east-1.amazonaws.com/approval/?link=TwCZuzeukV5a4SEHDS6ikl9C8H_L2GbKNNXtTGXufK0';
const EXPIRES = new Date('2026-02-08T10:00:00.000Z');
const DISABLE_DECISION = {
  decision: 'approve' as const,
  by: 'alice',
  at: '2026-01-01T00:00:00.000Z',
  identity: { kind: 'self-declared' as const },
  via: 'approval-page' as const,
  sourceIp: '198.51.100.7',
};

describe('approvalMessage', () => {
  it('puts the link after the request text, where the page cuts it, and says it works once and expires', () => {
    // Act
    const text = approvalMessage({
      step: 'disable',
      text: 'The assessment.\n',
      link: LINK,
      expiresAt: EXPIRES,
    });

    // Assess
    expect(text.indexOf(LINK_PARAGRAPH)).toBe('The assessment.'.length);
    expect(text).toContain(`(the link itself decides nothing): ${LINK}`);
    expect(text).toContain('works for one decision and expires at 2026-02-08T10:00:00.000Z');
    expect(text).toContain('do not forward');
  });

  it('names who approved the disable in the deletion request, labelled as the decision recorded it', () => {
    // Act
    const deletion = approvalMessage({
      step: 'deletion',
      text: 'The report.',
      link: LINK,
      expiresAt: EXPIRES,
      previousDecision: DISABLE_DECISION,
    });
    const disable = approvalMessage({
      step: 'disable',
      text: 'The assessment.',
      link: LINK,
      expiresAt: EXPIRES,
      previousDecision: DISABLE_DECISION,
    });

    // Assess
    expect(deletion).toContain(
      'Disabling this key was approved by alice (self-declared name, not verified; from 198.51.100.7; on the approval page) at 2026-01-01T00:00:00.000Z.',
    );
    expect(deletion.indexOf('Disabling this key was approved')).toBeLessThan(
      deletion.indexOf(LINK_PARAGRAPH),
    );
    expect(disable).not.toContain('was approved by');
  });
});
