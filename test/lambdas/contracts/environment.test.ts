import {
  checkEnvironment,
  fastPathEnvironment,
  holdRegistryEnvironment,
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

describe('holdRegistryEnvironment', () => {
  it('reads the hold registry table', () => {
    // Act
    const settings = holdRegistryEnvironment.parse({ KDG_HOLD_TABLE: 'Guard-HoldRegistryTable' });

    // Assess
    expect(settings).toEqual({ tableName: 'Guard-HoldRegistryTable' });
  });

  it.each([[{}], [{ KDG_HOLD_TABLE: '' }]])('refuses a missing or empty table name (%j)', (env) => {
    // Act
    const parsed = holdRegistryEnvironment.safeParse(env);

    // Assess
    expect(parsed.success).toBe(false);
  });
});
