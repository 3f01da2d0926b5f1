import * as z from 'zod/mini';
import { describeIssues, safeParseContract } from '../../../lambdas/contracts/issues.js';

const schema = z.object({ a: z.string(), b: z.number(), c: z.boolean() });

describe('safeParseContract', () => {
  it('answers in English without any module configuring zod', () => {
    // Act
    const parsed = safeParseContract(schema, { a: 'x', b: 'one', c: true });

    // Assess
    expect(parsed.error?.issues[0]?.message).toBe('Invalid input: expected number, received string');
  });
});

describe('describeIssues', () => {
  it('names each path, or the event as a whole, and stops after the first few', () => {
    // Prepare
    const issues = [
      ...(safeParseContract(schema, {}).error?.issues ?? []),
      ...(safeParseContract(schema, 'text').error?.issues ?? []),
    ];

    // Act
    const two = describeIssues(issues, 2);
    const all = describeIssues(issues, Number.POSITIVE_INFINITY);

    // Assess
    expect(two).toBe(
      'a: Invalid input: expected string, received undefined; b: Invalid input: expected number, received undefined',
    );
    expect(all.split('; ')).toHaveLength(4);
    expect(all).toMatch(/; \(event\): Invalid input: expected object, received string$/);
  });
});
