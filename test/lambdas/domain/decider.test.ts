import {
  approverMatches,
  decisionTagText,
  describeDecision,
  mayDecide,
} from '../../../lambdas/domain/decider.js';
import type { ApprovalDecision } from '../../../lambdas/domain/types.js';

const AT = '2026-02-01T10:00:00.000Z';
const PAGE: ApprovalDecision = {
  decision: 'approve',
  by: 'alice@example.com',
  at: AT,
  identity: { kind: 'self-declared' },
  via: 'approval-page',
  sourceIp: '198.51.100.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
};
const CLI: ApprovalDecision = {
  decision: 'approve',
  by: 'arn:aws:sts::111122223333:assumed-role/KeyApprovers/alice',
  at: AT,
  identity: {
    kind: 'iam',
    arn: 'arn:aws:sts::111122223333:assumed-role/KeyApprovers/alice',
    userId: 'AROAEXAMPLEID:alice',
    account: '111122223333',
  },
  via: 'cli',
};

describe('describeDecision', () => {
  it('labels a typed name as self-declared and names what the request proves', () => {
    expect(describeDecision(PAGE)).toBe(
      `alice@example.com (self-declared name, not verified; from 198.51.100.7, Mozilla/5.0 (X11; Linux x86_64); on the approval page) at ${AT}`,
    );
  });

  it('names an IAM identity as verified by AWS', () => {
    expect(describeDecision(CLI)).toBe(
      `arn:aws:sts::111122223333:assumed-role/KeyApprovers/alice (IAM identity verified by AWS (user ID AROAEXAMPLEID:alice); with the kms-deletion-guard CLI) at ${AT}`,
    );
  });

  it('reads a decision recorded before identities as self-declared, and strips control characters', () => {
    expect(describeDecision({ decision: 'approve', by: 'bob\u001b[31m', at: AT })).toBe(
      `bob[31m (self-declared name, not verified) at ${AT}`,
    );
  });
});

describe('decisionTagText', () => {
  it('puts how the decider is known first, then who, when and from where', () => {
    expect(decisionTagText(PAGE)).toBe(`self-declared alice@example.com at ${AT} from 198.51.100.7`);
    expect(decisionTagText(CLI)).toBe(
      `IAM arn:aws:sts::111122223333:assumed-role/KeyApprovers/alice at ${AT}`,
    );
  });
});

describe('approverMatches', () => {
  const session = (role: string, name: string) => ({
    kind: 'iam' as const,
    arn: `arn:aws:sts::111122223333:assumed-role/${role}/${name}`,
  });

  it.each([
    // A role ARN names every session of the role, whatever its path (STS names sessions by the role's name).
    ['arn:aws:iam::111122223333:role/KeyApprovers', session('KeyApprovers', 'alice'), true],
    ['arn:aws:iam::111122223333:role/teams/security/KeyApprovers', session('KeyApprovers', 'bob'), true],
    ['arn:aws:iam::111122223333:role/KeyApprovers', session('KeyApproversOld', 'alice'), false],
    ['arn:aws:iam::444455556666:role/KeyApprovers', session('KeyApprovers', 'alice'), false],
    ['arn:aws-cn:iam::111122223333:role/KeyApprovers', session('KeyApprovers', 'alice'), false],
    // An assumed-role ARN names exactly one session.
    ['arn:aws:sts::111122223333:assumed-role/KeyApprovers/alice', session('KeyApprovers', 'alice'), true],
    ['arn:aws:sts::111122223333:assumed-role/KeyApprovers/alice', session('KeyApprovers', 'mallory'), false],
    // A user ARN names exactly that user.
    [
      'arn:aws:iam::111122223333:user/ops/alice',
      { kind: 'iam' as const, arn: 'arn:aws:iam::111122223333:user/ops/alice' },
      true,
    ],
    [
      'arn:aws:iam::111122223333:user/alice',
      { kind: 'iam' as const, arn: 'arn:aws:iam::111122223333:user/alice2' },
      false,
    ],
    ['arn:aws:iam::111122223333:root', { kind: 'iam' as const, arn: 'arn:aws:iam::111122223333:root' }, true],
    // An e-mail names an IAM Identity Center session of that user (Identity Center sets the session name),
    // never a session name anyone could pick with AssumeRole.
    ['Alice@Example.com', session('AWSReservedSSO_KeyApprovers_0123456789abcdef', 'alice@example.com'), true],
    ['alice@example.com', session('KeyApprovers', 'alice@example.com'), false],
    // An e-mail names a verified sign-in of that address; an ARN never does.
    ['alice@example.com', { kind: 'email' as const, email: 'ALICE@example.com' }, true],
    [
      'arn:aws:iam::111122223333:role/KeyApprovers',
      { kind: 'email' as const, email: 'alice@example.com' },
      false,
    ],
  ])('%s names %j: %s', (entry, decider, expected) => {
    expect(approverMatches(entry, decider)).toBe(expected);
  });
});

describe('mayDecide', () => {
  it('lets anyone decide without an approvers list, and only the named ones with it', () => {
    const alice = { kind: 'iam' as const, arn: 'arn:aws:iam::111122223333:user/alice' };
    const bob = { kind: 'iam' as const, arn: 'arn:aws:iam::111122223333:user/bob' };
    expect(mayDecide([], alice)).toBe(true);
    expect(mayDecide(['arn:aws:iam::111122223333:user/alice'], alice)).toBe(true);
    expect(mayDecide(['arn:aws:iam::111122223333:user/alice'], bob)).toBe(false);
  });
});
