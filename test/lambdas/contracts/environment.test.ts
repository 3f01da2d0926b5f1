import {
  checkEnvironment,
  claimEnvironment,
  fastPathEnvironment,
} from '../../../lambdas/contracts/environment.js';

const STATE_MACHINE = 'arn:aws:states:us-east-1:111122223333:stateMachine:Guard';

describe('fastPathEnvironment', () => {
  it('reads the topic, the executions of the state machine and the workflow roles', () => {
    // Act
    const settings = fastPathEnvironment.parse({
      KDG_TOPIC_ARN: 'arn:aws:sns:us-east-1:111122223333:topic',
      KDG_STATE_MACHINE_ARN: STATE_MACHINE,
      KDG_WORKFLOW_PRINCIPALS: ' arn:aws:iam::111122223333:role/A, ,arn:aws:iam::111122223333:role/B ',
    });

    // Assess
    expect(settings).toEqual({
      topicArn: 'arn:aws:sns:us-east-1:111122223333:topic',
      stateMachineArn: STATE_MACHINE,
      executionPrefix: 'arn:aws:states:us-east-1:111122223333:execution:Guard:',
      workflowPrincipals: ['arn:aws:iam::111122223333:role/A', 'arn:aws:iam::111122223333:role/B'],
      claimSettleMs: undefined,
    });
  });

  it.each([
    ['no topic', { KDG_STATE_MACHINE_ARN: STATE_MACHINE }],
    ['an empty topic', { KDG_TOPIC_ARN: '', KDG_STATE_MACHINE_ARN: STATE_MACHINE }],
    ['a state machine that is not one', { KDG_TOPIC_ARN: 't', KDG_STATE_MACHINE_ARN: 'Guard' }],
  ])('refuses %s', (_label, env) => {
    // Act
    const parsed = fastPathEnvironment.safeParse(env);

    // Assess
    expect(parsed.success).toBe(false);
  });
});

describe('checkEnvironment', () => {
  it('needs both the schedule group and the scheduler role', () => {
    // Act
    const issues = checkEnvironment.safeParse({ KDG_SCHEDULE_GROUP: 'g', KDG_SCHEDULER_ROLE_ARN: '' }).error
      ?.issues;

    // Assess
    expect(issues?.map((issue) => issue.path)).toEqual([['KDG_SCHEDULER_ROLE_ARN']]);
  });
});

describe('claimEnvironment', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['soon', undefined],
    ['-1', undefined],
    ['Infinity', undefined],
    ['0', 0],
    ['2500', 2500],
  ])('reads KDG_CLAIM_SETTLE_MS %j as %j (absent or unusable: the protocol default)', (raw, expected) => {
    // Act
    const settings = claimEnvironment.parse(raw === undefined ? {} : { KDG_CLAIM_SETTLE_MS: raw });

    // Assess
    expect(settings.claimSettleMs).toBe(expected);
  });
});
