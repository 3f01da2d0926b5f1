import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { TAGS } from '../../../lambdas/domain/types.js';
import { KeyDeletionGuardConfigError, resolveGuardConfig } from '../../../lib/constructs/config.js';
import { HANDLER_NAMES } from '../../../lib/constructs/guard-function.js';
import { KeyDeletionGuard } from '../../../lib/constructs/key-deletion-guard.js';
import { synthStack, TEST_CONFIG } from '../synth.js';

// With the sweep, so that every handler (the sweep's too) is in the template the checks below read.
const { stack, template } = synthStack({ ...TEST_CONFIG, sweep: true });
// The sweep's subscription source replaces the sweep: its handlers are in a template of their own.
const { stack: subscribedStack, template: subscribed } = synthStack({
  ...TEST_CONFIG,
  sweep: true,
  sweepSubscription: true,
});
const SUBSCRIPTION_HANDLERS: readonly string[] = ['deliveries', 'delivery-proof'];

/** The template a handler's function is in. */
function templateOf(handler: string): Template {
  return SUBSCRIPTION_HANDLERS.includes(handler) ? subscribed : template;
}
const LAMBDAS = path.resolve(import.meta.dirname, '../../../lambdas');
const SDK_SERVICES: Record<string, string> = {
  '@aws-sdk/client-kms': 'kms',
  '@aws-sdk/client-cloudwatch-logs': 'logs',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-cloudtrail': 'cloudtrail',
  '@aws-sdk/client-scheduler': 'scheduler',
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-rds': 'rds',
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-backup': 'backup',
  '@aws-sdk/client-secrets-manager': 'secretsmanager',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-efs': 'elasticfilesystem',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
};
/** Commands whose IAM action is not named after them (the Service Authorization Reference's mapping). */
const ACTION_OF_COMMAND: Record<string, string> = {
  's3:ListBuckets': 's3:ListAllMyBuckets',
  's3:GetBucketEncryption': 's3:GetEncryptionConfiguration',
};
/** Actions a command needs beside its own: a schedule's target role is passed to Scheduler. */
const IMPLIED_ACTIONS: Record<string, readonly string[]> = {
  'scheduler:CreateSchedule': ['iam:PassRole'],
};

/** The AWS actions a handler's code can call: the SDK commands imported by its files and their local imports. */
function actionsCalledBy(handler: string): string[] {
  const actions = new Set<string>();
  const visited = new Set<string>();
  const visit = (file: string) => {
    if (visited.has(file)) return;
    visited.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g)) {
      const [, names = '', from = ''] = match;
      const service = SDK_SERVICES[from];
      if (service && !match[0].startsWith('import type')) {
        for (const name of names.split(',').map((n) => n.trim().replace(/^type\s+/, ''))) {
          if (name.endsWith('Command')) {
            const command = `${service}:${name.slice(0, -'Command'.length)}`;
            const action = ACTION_OF_COMMAND[command] ?? command;
            for (const each of [action, ...(IMPLIED_ACTIONS[action] ?? [])]) actions.add(each);
          }
        }
      }
      if (from.startsWith('.')) visit(path.resolve(path.dirname(file), from.replace(/\.js$/, '.ts')));
    }
  };
  visit(path.join(LAMBDAS, handler, 'index.ts'));
  return [...actions].sort();
}

type Statement = { Effect?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** The statements of every policy attached to the role with this logical ID. */
function statementsOfRole(roleId: string | undefined, within: Template = template): Statement[] {
  return Object.values(within.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** The logical ID of the Lambda function that runs a handler. */
function functionOf(handler: string): string | undefined {
  const functions = templateOf(handler).findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { KDG_HANDLER: handler } } },
  });
  return Object.keys(functions)[0];
}

/** The statements a handler's role is granted. */
function statementsOf(handler: string): Statement[] {
  const within = templateOf(handler);
  const fn = within.toJSON().Resources[functionOf(handler) ?? ''];
  return statementsOfRole(fn?.Properties?.Role?.['Fn::GetAtt']?.[0], within);
}

/** The statements of the state machine's role. */
function stateMachineStatements(): Statement[] {
  const roles = template.findResources('AWS::IAM::Role', {
    Properties: {
      AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'states.amazonaws.com' } }] },
    },
  });
  return statementsOfRole(Object.keys(roles)[0]);
}

/** The actions a handler's role is granted, without the logging and tracing every Lambda gets. */
function actionsGrantedTo(handler: string): string[] {
  const granted = new Set(statementsOf(handler).flatMap((statement) => [statement.Action].flat()));
  for (const baseline of [
    'logs:CreateLogStream',
    'logs:PutLogEvents',
    'xray:PutTraceSegments',
    'xray:PutTelemetryRecords',
    // The fast path's failure destination: Lambda itself sends failed events to its dead-letter queue.
    ...(handler === 'fast-path' ? ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'] : []),
  ]) {
    granted.delete(baseline);
  }
  return [...granted].sort();
}

describe('KeyDeletionGuard', () => {
  it('knows every handler folder under lambdas/, so the checks over HANDLER_NAMES miss none', () => {
    // Prepare: the folders that are not handlers hold what the handlers share.
    const shared = new Set(['aws', 'contracts', 'domain']);

    // Act
    const folders = readdirSync(path.join(import.meta.dirname, '..', '..', '..', 'lambdas'), {
      withFileTypes: true,
    })
      .filter((entry) => entry.isDirectory() && !shared.has(entry.name))
      .map((entry) => entry.name);

    // Assess
    expect([...HANDLER_NAMES].sort()).toEqual(folders.sort());
  });

  it.each(HANDLER_NAMES)('grants the %s handler exactly the AWS actions its code calls', (handler) => {
    // Act
    const called = actionsCalledBy(handler);
    const granted = actionsGrantedTo(handler);

    // Assess
    expect(called.length).toBeGreaterThan(0);
    expect(granted).toEqual(called);
  });

  it('scopes key actions to the keys of its own account', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const keyStatements = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: { Action: string | string[] }) =>
        [s.Action].flat().some((a) => a.startsWith('kms:') && a !== 'kms:ListAliases'),
      );
    expect(keyStatements.length).toBeGreaterThan(0);
    for (const statement of keyStatements) {
      expect(JSON.stringify(statement.Resource)).toContain(':kms:*:111122223333:key/*');
    }
  });

  it.each(['disable', 'check', 'schedule-deletion'])(
    'lets the %s handler make canary calls only on keys that carry the workflow status tag',
    (handler) => {
      // Prepare
      const statements = statementsOf(handler);
      const canaryActions = ['kms:Encrypt', 'kms:Sign', 'kms:GenerateMac', 'kms:DeriveSharedSecret'];

      // Act
      const granting = statements.filter((s: { Action: string | string[] }) =>
        [s.Action].flat().some((a) => canaryActions.includes(a)),
      );

      // Assess
      expect(granting.length).toBeGreaterThan(0);
      for (const statement of granting) {
        expect(statement.Condition).toEqual({ Null: { [`aws:ResourceTag/${TAGS.status}`]: 'false' } });
      }
      expect(granting.flatMap((s: { Action: string | string[] }) => [s.Action].flat()).sort()).toEqual(
        [...canaryActions].sort(),
      );
    },
  );

  it('grants no other handler a canary action', () => {
    // Act
    const others = ['assess', 'restore', 'approval'].flatMap(actionsGrantedTo);

    // Assess
    expect(others.filter((a) => /^kms:(Encrypt|Sign|GenerateMac|DeriveSharedSecret)$/.test(a))).toEqual([]);
  });

  it('adds the tag condition to the actions that disable or delete when keyTagCondition is set', () => {
    // Prepare
    const { template: conditioned } = synthStack({
      ...TEST_CONFIG,
      keyTagCondition: { key: 'retire', value: 'yes' },
    });

    // Assess
    for (const action of ['kms:DisableKey', 'kms:ScheduleKeyDeletion']) {
      conditioned.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: Match.arrayWith([action]),
              Condition: { StringEquals: { 'aws:ResourceTag/retire': 'yes' } },
            }),
          ]),
        },
      });
    }
  });

  it('runs every handler on Node.js 22, arm64, with X-Ray', () => {
    const functions = [template, subscribed].flatMap((t) =>
      Object.values(t.findResources('AWS::Lambda::Function')),
    );
    const handlers = new Set(functions.map((fn) => fn.Properties.Environment.Variables.KDG_HANDLER));
    expect([...handlers].sort()).toEqual([...HANDLER_NAMES].sort());
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
    }
  });

  it('lets the state machine invoke only its Lambdas and publish only to its topic', () => {
    // Prepare
    const statements = stateMachineStatements();

    // Act
    const actions = new Set(statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat()));

    // Assess
    expect([...actions].sort()).toEqual(
      [
        'lambda:InvokeFunction',
        'logs:CreateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:DescribeLogGroups',
        'logs:DescribeResourcePolicies',
        'logs:GetLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:UpdateLogDelivery',
        'sns:Publish',
        'xray:GetSamplingRules',
        'xray:GetSamplingTargets',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ].sort(),
    );
    const snsStatements = statements.filter((s: { Action: string | string[] }) =>
      [s.Action].flat().includes('sns:Publish'),
    );
    for (const s of snsStatements)
      expect(s.Resource).toEqual({ Ref: expect.stringMatching(/NotificationsTopic/) });
  });

  it('lets the state machine invoke exactly the seven workflow Lambdas (and their versions), nothing else', () => {
    // Prepare
    const invoke = stateMachineStatements().filter((s) =>
      [s.Action].flat().includes('lambda:InvokeFunction'),
    );
    const workflowFunctions = [
      'assess',
      'inventory',
      'disable',
      'check',
      'schedule-deletion',
      'restore',
      'request-approval',
    ].map(functionOf);

    // Act
    const resources = invoke.flatMap((s: { Resource: unknown }) => [s.Resource].flat());
    const referenced = resources.map(
      (r: unknown) => /"Fn::GetAtt":\["([^"]+)","Arn"\]/.exec(JSON.stringify(r))?.[1] ?? JSON.stringify(r),
    );

    // Assess
    expect(invoke.every((s: { Action: string | string[] }) => [s.Action].flat().length === 1)).toBe(true);
    expect(new Set(referenced)).toEqual(new Set(workflowFunctions));
  });

  it('with keyTagCondition, grants no action toward deletion without the tag condition', () => {
    // Prepare
    const { template: conditioned } = synthStack({
      ...TEST_CONFIG,
      keyTagCondition: { key: 'retire', value: 'yes' },
    });
    const towardDeletion = ['kms:DisableKey', 'kms:ScheduleKeyDeletion'];

    // Act
    const granting = Object.values(conditioned.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter(
        (s: Statement) => s.Effect !== 'Deny' && [s.Action].flat().some((a) => towardDeletion.includes(a)),
      );

    // Assess
    expect(granting.length).toBeGreaterThan(0);
    for (const statement of granting) {
      expect(statement.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/retire': 'yes' } });
    }
  });

  it.each([
    ['disable', 'kms:DisableKey'],
    ['schedule-deletion', 'kms:ScheduleKeyDeletion'],
  ])('lets AWS itself deny the %s handler %s on a key used within minIdleDays', (handler, action) => {
    // Prepare
    const { template: shortIdle } = synthStack({ ...TEST_CONFIG, minIdleDays: 45 });
    const roleOf = (t: typeof template) => {
      const fn = Object.values(
        t.findResources('AWS::Lambda::Function', {
          Properties: { Environment: { Variables: { KDG_HANDLER: handler } } },
        }),
      )[0];
      return fn?.Properties.Role['Fn::GetAtt'][0] as string;
    };

    // Assess: a plain NumericLessThan (never ...IfExists), on exactly the action the handler calls.
    for (const [t, days] of [
      [template, 90],
      [shortIdle, 45],
    ] as const) {
      t.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: roleOf(t) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Effect: 'Deny',
              Action: action,
              Resource: Match.anyValue(),
              Condition: { NumericLessThan: { 'kms:TrailingDaysWithoutKeyUsage': days } },
            },
          ]),
        },
      });
    }
  });

  it('puts the recency Deny only on the roles that disable or delete, and only on those actions', () => {
    // Act
    const denies = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => s.Effect === 'Deny');

    // Assess
    expect(denies.map((s) => s.Action).sort()).toEqual(['kms:DisableKey', 'kms:ScheduleKeyDeletion']);
    expect(statementsOf('disable').filter((s) => s.Effect === 'Deny')).toHaveLength(1);
    expect(statementsOf('schedule-deletion').filter((s) => s.Effect === 'Deny')).toHaveLength(1);
    for (const statement of denies) {
      expect(JSON.stringify(statement.Resource)).toContain(':kms:*:111122223333:key/*');
    }
  });

  it("gives the inventory function read calls only, and Lambda's longest run", () => {
    // Prepare
    const inventory = template.toJSON().Resources[functionOf('inventory') ?? ''];

    // Act
    const actions = actionsGrantedTo('inventory');

    // Assess
    expect(actions.filter((a) => !/:(Describe|List|Get)/.test(a))).toEqual([]);
    expect(inventory?.Properties.Timeout).toBe(900);
  });

  it('throttles the approval endpoint and logs access without the query string (the link secret)', () => {
    // Prepare
    const [stage] = Object.values(template.findResources('AWS::ApiGateway::Stage'));

    // Assess
    expect(stage?.Properties).toMatchObject({
      StageName: 'approval',
      TracingEnabled: true,
      MethodSettings: [
        {
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: 5,
          ThrottlingBurstLimit: 10,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        },
      ],
    });
    const format = stage?.Properties.AccessLogSetting.Format as string;
    expect(format).toContain('$context.requestId');
    expect(format).not.toMatch(/querystring|requestOverride|\$context\.path|\$input/);
  });

  it('serves the approval page on GET (the link secret required) and POST, through one Lambda', () => {
    // Prepare
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));

    // Assess
    expect(methods.map((m) => m.Properties.HttpMethod).sort()).toEqual(['GET', 'POST']);
    for (const method of methods) {
      expect(method.Properties.Integration).toMatchObject({ Type: 'AWS_PROXY' });
      expect(JSON.stringify(method.Properties.Integration.Uri)).toContain('GuardApprovalFunction');
    }
    expect(methods.find((m) => m.Properties.HttpMethod === 'GET')?.Properties.RequestParameters).toEqual({
      'method.request.querystring.link': true,
    });
  });

  describe('the approval links', () => {
    const tables = template.findResources('AWS::DynamoDB::Table', {
      Properties: { KeySchema: [{ AttributeName: 'linkHash', KeyType: 'HASH' }] },
    });
    const [tableId, table] = Object.entries(tables)[0] ?? [];
    /** Every action any role of the stack is granted on the link table. */
    const grantsOnTable = () =>
      Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy) =>
        (policy.Properties.PolicyDocument.Statement as Statement[])
          .filter((statement) => JSON.stringify(statement.Resource).includes(`"${tableId}"`))
          .map((statement) => ({
            roles: policy.Properties.Roles,
            actions: [statement.Action].flat().sort(),
          })),
      );
    const roleOf = (handler: string) =>
      template.toJSON().Resources[functionOf(handler) ?? ''].Properties.Role['Fn::GetAtt'][0];

    it('are kept in one table keyed by the secret’s digest, with a TTL, on demand', () => {
      // Assess
      expect(Object.keys(tables)).toHaveLength(1);
      expect(table?.Properties).toMatchObject({
        KeySchema: [{ AttributeName: 'linkHash', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'linkHash', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'retainUntil', Enabled: true },
      });
      expect(table?.DeletionPolicy).toBe('Delete');
    });

    it('may be added to by the request function and read and spent by the approval page, by nobody else', () => {
      // Act
      const grants = grantsOnTable();

      // Assess
      expect(grants).toEqual(
        expect.arrayContaining([
          { roles: [{ Ref: roleOf('request-approval') }], actions: ['dynamodb:PutItem'] },
          { roles: [{ Ref: roleOf('approval') }], actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] },
        ]),
      );
      expect(grants).toHaveLength(2);
    });

    it('reach the request function and the page through their environments', () => {
      // Assess
      for (const handler of ['request-approval', 'approval']) {
        template.hasResourceProperties('AWS::Lambda::Function', {
          Environment: {
            Variables: Match.objectLike({ KDG_HANDLER: handler, KDG_APPROVAL_LINKS_TABLE: { Ref: tableId } }),
          },
        });
      }
    });

    it('are e-mailed on a topic of their own that only the configured addresses may subscribe to', () => {
      // Prepare
      const topics = template.findResources('AWS::SNS::Topic');
      const approvalTopicId = Object.keys(topics).find((id) => id.includes('ApprovalTopic'));
      const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy')).filter((p) =>
        JSON.stringify(p.Properties.Topics).includes(`"${approvalTopicId}"`),
      );

      // Assess
      expect(approvalTopicId).toBeDefined();
      expect(policies.flatMap((p) => p.Properties.PolicyDocument.Statement)).toEqual(
        expect.arrayContaining([
          {
            Sid: 'OnlyConfiguredApproversSubscribe',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'sns:Subscribe',
            Resource: { Ref: approvalTopicId },
            Condition: { StringNotEqualsIgnoreCase: { 'sns:Endpoint': ['ops@example.com'] } },
          },
        ]),
      );
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        TopicArn: { Ref: approvalTopicId },
      });
      expect(statementsOf('request-approval')).toContainEqual({
        Action: 'sns:Publish',
        Effect: 'Allow',
        Resource: { Ref: approvalTopicId },
      });
    });

    it('lets nobody subscribe to the approval topic when no address is configured', () => {
      // Prepare
      const { template: none } = synthStack({ cloudTrailLogGroupName: 'trail' });

      // Act
      const denies = Object.values(none.findResources('AWS::SNS::TopicPolicy'))
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .filter((s: { Sid?: string }) => s.Sid === 'OnlyConfiguredApproversSubscribe');

      // Assess
      expect(denies).toHaveLength(1);
      expect(denies[0].Condition).toBeUndefined();
      expect(Object.keys(none.findResources('AWS::SNS::Subscription'))).toHaveLength(0);
    });
  });

  it("lets the approval Lambda read only its workflow's histories and answer only its tokens", () => {
    // Prepare
    const statements = statementsOf('approval');
    const machineId = Object.keys(template.findResources('AWS::StepFunctions::StateMachine'))[0] as string;
    const resourceOf = (action: string) =>
      statements.find((s: { Action: string | string[] }) => [s.Action].flat().includes(action))?.Resource;

    // Assess
    expect(JSON.stringify(resourceOf('states:GetExecutionHistory'))).toBe(
      JSON.stringify({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':states:us-east-1:111122223333:execution:',
            { 'Fn::GetAtt': [machineId, 'Name'] },
            ':*',
          ],
        ],
      }),
    );
    expect(resourceOf('states:SendTaskSuccess')).toEqual({ Ref: machineId });
    expect(resourceOf('states:SendTaskFailure')).toEqual({ Ref: machineId });
    expect(statements.flatMap((s: { Action: string | string[] }) => [s.Action].flat())).not.toContain(
      'kms:TagResource',
    );
  });

  it("lets Scheduler invoke only the check function, with a role only this account's schedules assume", () => {
    // Prepare
    const checkId = functionOf('check');
    const roles = template.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })],
        },
      },
    });
    const [roleId, role] = Object.entries(roles)[0] ?? [];
    const statements = statementsOfRole(roleId);

    // Assess
    expect(Object.keys(roles)).toHaveLength(1);
    expect(role?.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': '111122223333' },
    });
    expect(statements).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [checkId, 'Arn'] } },
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          KDG_HANDLER: 'check',
          KDG_SCHEDULE_GROUP: Match.anyValue(),
          KDG_SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': [roleId, 'Arn'] },
        },
      },
    });
  });

  it('lets the check function create schedules only in its group and pass only the Scheduler role', () => {
    // Assess
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'scheduler:CreateSchedule',
            Resource: {
              'Fn::Join': [
                '',
                Match.arrayWith([Match.stringLikeRegexp(':scheduler:us-east-1:111122223333:schedule/')]),
              ],
            },
          }),
          Match.objectLike({
            Action: 'iam:PassRole',
            Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:SendTaskHeartbeat'],
            Effect: 'Allow',
            Resource: { Ref: Match.stringLikeRegexp('StateMachine') },
          },
        ],
      },
    });
  });

  it('subscribes each approval e-mail address to the topic', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('creates a multi-Region trail that logs all management events when createTrail is set', () => {
    // Prepare
    const { template: withTrail } = synthStack({ approvalEmails: [], createTrail: true });

    // Assess
    withTrail.hasResourceProperties('AWS::CloudTrail::Trail', {
      IsMultiRegionTrail: true,
      IsLogging: true,
      CloudWatchLogsLogGroupArn: Match.anyValue(),
      // Read events (a failed Decrypt) must be logged and KMS events must not be excluded.
      EventSelectors: [
        {
          IncludeManagementEvents: true,
          ReadWriteType: 'All',
          ExcludeManagementEventSources: Match.absent(),
        },
      ],
    });
  });

  it("gives the team that runs it a dashboard named after the stack, over the workflow's resources", () => {
    // Prepare
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    const logicalIds = (type: string) => Object.keys(template.findResources(type));

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Test' });
    for (const id of [
      ...logicalIds('AWS::StepFunctions::StateMachine'),
      ...logicalIds('AWS::SQS::Queue'),
      ...['check', 'restore', 'fast-path', 'approval'].map(functionOf),
    ]) {
      expect(body, id).toContain(`"${id}"`);
    }
  });

  it.each([
    ['RestoreFailed', 'RestoreFailures'],
    ['ExecutionErrors', 'ExecutionErrors'],
    ['ExecutionsStoppedOrTimedOut', undefined],
    ['ChecksFailing', undefined],
    ['FastPathDeadLetters', undefined],
  ])('alarms as Test-%s and relays the alarm to the topic', (name, logMetric) => {
    // Prepare
    const relay = functionOf('alarm-relay');

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `Test-${name}`,
      AlarmActions: [{ 'Fn::GetAtt': [relay, 'Arn'] }],
      ...(logMetric ? { MetricName: logMetric, Namespace: 'KmsDeletionGuard/Test' } : {}),
    });
  });

  it('raises exactly the six alarms of the operator view (the sweep on)', () => {
    // Act
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties.AlarmName,
    );

    // Assess
    expect(names.sort()).toEqual(
      [
        'Test-ChecksFailing',
        'Test-ExecutionErrors',
        'Test-ExecutionsStoppedOrTimedOut',
        'Test-FastPathDeadLetters',
        'Test-RestoreFailed',
        'Test-SweepFailing',
      ].sort(),
    );
  });

  it('reads execution errors and failed restores from the execution log, checks and fast-path actions from their functions’ logs', () => {
    // Prepare
    const logGroupOf = (handler: string) =>
      template.toJSON().Resources[functionOf(handler) ?? ''].Properties.LoggingConfig.LogGroup;
    const [executionLogs] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')).map(
      (machine) => machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn,
    );
    const filterOf = (metricName: string) =>
      Object.values(
        template.findResources('AWS::Logs::MetricFilter', {
          Properties: { MetricTransformations: [Match.objectLike({ MetricName: metricName })] },
        }),
      ).map((filter) => filter.Properties.LogGroupName);

    // Assess
    expect(executionLogs['Fn::GetAtt'][1]).toBe('Arn');
    for (const metric of ['ExecutionErrors', 'RestoreFailures']) {
      expect(filterOf(metric), metric).toEqual([{ Ref: executionLogs['Fn::GetAtt'][0] }]);
    }
    for (const metric of ['EvidenceFound', 'CheckFailures']) {
      expect(filterOf(metric), metric).toEqual([logGroupOf('check')]);
    }
    expect(filterOf('FastPathActions')).toEqual([logGroupOf('fast-path')]);
  });

  it('makes no fast-path alarm when fastRollback is off', () => {
    // Prepare
    const { template: polling } = synthStack({ ...TEST_CONFIG, fastRollback: false });

    // Act
    const names = Object.values(polling.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties.AlarmName,
    );

    // Assess
    expect(names).toHaveLength(4);
    expect(names).not.toContain('Test-FastPathDeadLetters');
  });

  it.each([
    ['the sweep', () => stack],
    ['the subscription source', () => subscribedStack],
  ])('has no unacknowledged cdk-nag AwsSolutions findings (%s)', (_, stackOf) => {
    // Act
    const checked = stackOf();
    const report = new AwsSolutionsChecks(checked).validateScope(checked);

    // Assess
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
      ),
    ).toEqual([]);
  });
});

describe('resolveGuardConfig', () => {
  it.each([
    [{}, /No CloudTrail source/],
    [{ cloudTrailLogGroupName: 'g', createTrail: true }, /not both/],
    [
      { cloudTrailLogGroupName: 'g', observationDays: 0 },
      /observationDays must be a whole number of days from 1 to 355; received 0/,
    ],
    [
      { cloudTrailLogGroupName: 'g', observationDays: 355 },
      /is 400 days, more than the 365 days a Step Functions execution may run/,
    ],
    [
      { cloudTrailLogGroupName: 'g', pendingWindowInDays: 31 },
      /pendingWindowInDays .* from 7 to 30; received 31/,
    ],
    [{ cloudTrailLogGroupName: 'g', checkIntervalHours: 1.5 }, /checkIntervalHours/],
    [
      { cloudTrailLogGroupName: 'g', approvalEmails: ['not-an-address'] },
      /approvalEmails .* received \["not-an-address"\]/,
    ],
    [{ cloudTrailLogGroupName: 'g', observationDay: 30 }, /Unknown configuration field "observationDay"/],
    [{ cloudTrailLogGroupName: 'bad name!' }, /cloudTrailLogGroupName/],
    [{ cloudTrailLogGroupName: 'g', keyTagCondition: { key: 'aws:x', value: 'y' } }, /keyTagCondition/],
    [{ cloudTrailLogGroupName: 'g', watchPendingWindow: 'yes' }, /watchPendingWindow must be true or false/],
  ])('refuses %j with a message that names the problem', (raw, message) => {
    expect(() => resolveGuardConfig(raw)).toThrow(KeyDeletionGuardConfigError);
    expect(() => resolveGuardConfig(raw)).toThrow(message);
  });

  it('fills the documented defaults', () => {
    expect(resolveGuardConfig({ cloudTrailLogGroupName: 'g' })).toMatchObject({
      observationDays: 30,
      checkIntervalHours: 6,
      ingestionLagMinutes: 30,
      minIdleDays: 90,
      approvalTimeoutDays: 7,
      pendingWindowInDays: 30,
      watchPendingWindow: true,
      fastRollback: true,
      approvalEmails: [],
    });
  });

  it('fails synth early when the construct gets a bad configuration', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(() => new KeyDeletionGuard(new Stack(app, 'Bad'), 'Guard', { observationDays: 30 })).toThrow(
      /No CloudTrail source/,
    );
  });
});
