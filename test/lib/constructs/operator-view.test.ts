import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import {
  EXPECTED_FAIL_OUTCOMES,
  LOG_MESSAGES,
  OperatorView,
  OperatorViewConfigError,
  type OperatorViewProps,
  RESTORE_FAILED_STATE,
} from '../../../lib/constructs/operator-view.js';
import { compileFilterPattern } from '../../../lib/simulator/emulator/filter-pattern.js';
import { definitionOf, synthStack } from '../synth.js';

const LAMBDAS = path.resolve(import.meta.dirname, '../../../lambdas');

interface OperatorStack {
  readonly stack: Stack;
  readonly view: OperatorView;
  readonly template: Template;
  /** Logical IDs of the resources the test made for the view to watch. */
  readonly ids: Readonly<
    Record<
      'topic' | 'queue' | 'stateMachine' | 'check' | 'checkLogs' | 'fastPathLogs' | 'executionLogs',
      string
    >
  >;
}

/**
 * The view in a stack of its own: a one-state workflow that logs ALL events, plain Lambdas with their
 * log groups, a queue and a topic, all made here, so no test depends on how the product's stack wires it.
 * Bundling is skipped (the relay's bundle is proved by `cdk synth`).
 */
function operatorStack(
  options: { readonly fastPath?: boolean; readonly snsAction?: boolean } & Partial<
    Pick<OperatorViewProps, 'checkFailureThreshold' | 'checkFailureWindow'>
  > = {},
): OperatorStack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Ops', { env: { account: '111122223333', region: 'us-east-1' } });
  const executionLogGroup = new logs.LogGroup(stack, 'ExecutionLogs');
  const stateMachine = new sfn.StateMachine(stack, 'Workflow', {
    definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Start')),
    logs: { destination: executionLogGroup, level: sfn.LogLevel.ALL },
  });
  const monitored = (name: string) => {
    const logGroup = new logs.LogGroup(stack, `${name}Logs`);
    const fn = new lambda.Function(stack, name, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({});'),
      logGroup,
    });
    return { function: fn, logGroup };
  };
  const check = monitored('Check');
  const fastPathFunction = monitored('FastPath');
  const topic = new sns.Topic(stack, 'Topic');
  const deadLetterQueue = new sqs.Queue(stack, 'DeadLetters');
  const { fastPath = true, snsAction = false, ...overrides } = options;
  const view = new OperatorView(stack, 'OperatorView', {
    stateMachine,
    executionLogGroup,
    functions: { check, restore: monitored('Restore'), assess: monitored('Assess') },
    ...(fastPath ? { fastPath: { ...fastPathFunction, deadLetterQueue } } : {}),
    topic,
    ...(snsAction ? { alarmAction: new SnsAction(topic) } : {}),
    ...overrides,
  });
  const id = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  return {
    stack,
    view,
    template: Template.fromStack(stack),
    ids: {
      topic: id(topic),
      queue: id(deadLetterQueue),
      stateMachine: id(stateMachine),
      check: id(check.function),
      checkLogs: id(check.logGroup),
      fastPathLogs: id(fastPathFunction.logGroup),
      executionLogs: id(executionLogGroup),
    },
  };
}

const ops = operatorStack();
const { template, ids } = ops;
const NAMESPACE = 'KmsDeletionGuard/Ops';

/** The log groups' logical IDs as `Ref`s, the way CloudFormation names them. */
const ref = (logicalId: string) => ({ Ref: logicalId });

function relayArn(): unknown {
  const relays = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { KDG_HANDLER: 'alarm-relay' } } },
  });
  const [relayId] = Object.keys(relays);
  return { 'Fn::GetAtt': [relayId, 'Arn'] };
}

/** The dashboard's JSON body with each token shown as `<LogicalId>`. */
function dashboardBody(t: Template): { widgets: { properties: Record<string, unknown> }[] } {
  const [dashboard] = Object.values(t.findResources('AWS::CloudWatch::Dashboard'));
  const body = dashboard?.Properties.DashboardBody;
  const text =
    typeof body === 'string'
      ? body
      : (body['Fn::Join'][1] as unknown[])
          .map((part) => (typeof part === 'string' ? part : `<${JSON.stringify(part).replace(/"/g, '')}>`))
          .join('');
  return JSON.parse(text);
}

function queryNamed(t: Template, name: string): Record<string, unknown> | undefined {
  const found = t.findResources('AWS::Logs::QueryDefinition', { Properties: { Name: `Ops/${name}` } });
  return Object.values(found)[0]?.Properties;
}

describe('OperatorView', () => {
  describe('dashboard', () => {
    it('is named after the stack and shows holds by phase, outcomes, evidence found, fast-path actions and check errors', () => {
      // Act
      const body = dashboardBody(template);
      const titles = body.widgets.map((widget) => widget.properties.title);

      // Assess
      template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'Ops' });
      expect(titles).toEqual([
        'Alarms',
        'Holds by phase (latest check of each key)',
        'Outcomes',
        'Executions',
        'Evidence found (failed calls on held keys)',
        'Fast-path actions',
        'Check errors',
        'Lambda errors',
        'Restores',
      ]);
    });

    it('shows every alarm in its status widget', () => {
      // Act
      const [status] = dashboardBody(template).widgets;

      // Assess
      expect(status?.properties.alarms).toHaveLength(Object.keys(ops.view.alarms).length);
    });

    it('reads holds by phase from the latest check of each key, and outcomes from the execution log', () => {
      // Act
      const widgets = dashboardBody(template).widgets.map((widget) => widget.properties);
      const holds = widgets.find((w) => String(w.title).startsWith('Holds by phase'));
      const outcomes = widgets.find((w) => w.title === 'Outcomes');

      // Assess
      expect(holds?.query).toContain(`SOURCE '<{Ref:${ids.checkLogs}}>'`);
      expect(holds?.query).toContain(
        '| filter message = "check done"\n| stats latest(phase) as phase by keyArn\n| stats count(*) as holds by phase',
      );
      expect(outcomes?.query).toContain(`SOURCE '<{Ref:${ids.executionLogs}}>'`);
      expect(outcomes?.query).toContain('stats count(*) as executions by outcome');
    });

    it('graphs the fast path’s actions by kind beside its dead-letter queue', () => {
      // Act
      const fastPath = dashboardBody(template).widgets.find(
        (w) => w.properties.title === 'Fast-path actions',
      );

      // Assess
      expect(fastPath?.properties.metrics).toEqual([
        [NAMESPACE, 'FastPathActions', 'Action', 'EnableKey', expect.objectContaining({ stat: 'Sum' })],
        [
          NAMESPACE,
          'FastPathActions',
          'Action',
          'CancelKeyDeletion',
          expect.objectContaining({ stat: 'Sum' }),
        ],
        [
          'AWS/SQS',
          'ApproximateNumberOfMessagesVisible',
          'QueueName',
          expect.stringContaining(ids.queue),
          expect.objectContaining({ stat: 'Maximum', yAxis: 'right' }),
        ],
      ]);
    });
  });

  describe('alarms', () => {
    it('alarms on executions that ended in an error, read from the execution log', () => {
      // Assess
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: ref(ids.executionLogs),
        FilterPattern:
          '{ ($.type = "ExecutionFailed") && ($.details.error != "REFUSED") && ($.details.error != "REJECTED") && ' +
          '($.details.error != "APPROVAL_EXPIRED") && ($.details.error != "ROLLED_BACK") && ' +
          '($.details.error != "DELETION_CANCELLED") }',
        MetricTransformations: [
          { MetricNamespace: NAMESPACE, MetricName: 'ExecutionErrors', MetricValue: '1' },
        ],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Ops-ExecutionErrors',
        Namespace: NAMESPACE,
        MetricName: 'ExecutionErrors',
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [relayArn()],
      });
    });

    it('alarms on executions stopped by hand or timed out, from the state machine’s own metrics', () => {
      // Assess
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Ops-ExecutionsStoppedOrTimedOut',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [relayArn()],
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'FILL(aborted, 0) + FILL(timedOut, 0)' }),
          ...['ExecutionsAborted', 'ExecutionsTimedOut'].map((name) =>
            Match.objectLike({
              MetricStat: Match.objectLike({
                Metric: {
                  Namespace: 'AWS/States',
                  MetricName: name,
                  Dimensions: [{ Name: 'StateMachineArn', Value: ref(ids.stateMachine) }],
                },
                Stat: 'Sum',
              }),
              ReturnData: false,
            }),
          ),
        ]),
      });
    });

    it('alarms within a minute when the workflow enters the state of a restore that failed', () => {
      // Assess
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        LogGroupName: ref(ids.executionLogs),
        FilterPattern: `{ ($.type = "PassStateEntered") && ($.details.name = "${RESTORE_FAILED_STATE}") }`,
        MetricTransformations: [
          { MetricNamespace: NAMESPACE, MetricName: 'RestoreFailures', MetricValue: '1' },
        ],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Ops-RestoreFailed',
        MetricName: 'RestoreFailures',
        Period: 60,
        Threshold: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [relayArn()],
        AlarmDescription: Match.stringLikeRegexp('^ACTION NEEDED: .*aws kms enable-key'),
      });
    });

    it('alarms on messages in the fast path’s dead-letter queue', () => {
      // Assess
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Ops-FastPathDeadLetters',
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [ids.queue, 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [relayArn()],
      });
    });

    it('alarms when checks fail repeatedly: logged failures and function errors, 3 in an hour', () => {
      // Assess
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        FilterPattern:
          '{ ($.message = "check failed transiently, retry scheduled") || ($.message = "watch failed") }',
        MetricTransformations: [
          { MetricNamespace: NAMESPACE, MetricName: 'CheckFailures', MetricValue: '1' },
        ],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Ops-ChecksFailing',
        Threshold: 3,
        TreatMissingData: 'notBreaching',
        AlarmActions: [relayArn()],
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'FILL(failures, 0) + FILL(errors, 0)' }),
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: { Namespace: NAMESPACE, MetricName: 'CheckFailures' },
              Period: 3600,
            }),
          }),
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: {
                Namespace: 'AWS/Lambda',
                MetricName: 'Errors',
                Dimensions: [{ Name: 'FunctionName', Value: ref(ids.check) }],
              },
              Period: 3600,
            }),
          }),
        ]),
      });
    });

    it('counts check failures over the window and threshold it is given', () => {
      // Act
      const custom = operatorStack({ checkFailureThreshold: 5, checkFailureWindow: Duration.hours(2) });

      // Assess
      custom.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: 'Ops-ChecksFailing',
        Threshold: 5,
        Metrics: Match.arrayWith([
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({ MetricName: 'CheckFailures' }),
              Period: 7200,
            }),
          }),
        ]),
      });
    });

    it.each([
      [
        { checkFailureThreshold: 0 },
        /checkFailureThreshold must be a whole number of at least 1; received 0/,
      ],
      [{ checkFailureThreshold: 2.5 }, /received 2.5/],
      [{ checkFailureWindow: Duration.seconds(90) }, /checkFailureWindow must be whole minutes/],
      [{ checkFailureWindow: Duration.days(2) }, /from 1 minute to 1 day; received 2 days/],
    ])('refuses a check-failure setting CloudWatch would refuse (%o)', (setting, message) => {
      // Act
      const make = () => operatorStack(setting);

      // Assess
      expect(make).toThrow(OperatorViewConfigError);
      expect(make).toThrow(message);
    });

    it('counts the evidence each check found, from its own log line', () => {
      // Assess
      template.hasResourceProperties('AWS::Logs::MetricFilter', {
        FilterPattern: '{ ($.message = "check done") && ($.evidence > 0) }',
        MetricTransformations: [
          { MetricNamespace: NAMESPACE, MetricName: 'EvidenceFound', MetricValue: '$.evidence' },
        ],
      });
    });
  });

  describe('alarm delivery', () => {
    it('relays every alarm to the topic through a Lambda that may publish there and nothing else', () => {
      // Prepare
      const relays = template.findResources('AWS::Lambda::Function', {
        Properties: { Environment: { Variables: { KDG_HANDLER: 'alarm-relay' } } },
      });
      const [relay] = Object.values(relays);
      const roleId = relay?.Properties.Role['Fn::GetAtt'][0] as string;
      const granted = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement)
        .filter((s: { Action: string | string[] }) => [s.Action].flat().some((a) => a.startsWith('sns:')));

      // Assess
      expect(Object.keys(relays)).toHaveLength(1);
      expect(relay?.Properties.Environment.Variables.KDG_TOPIC_ARN).toEqual(ref(ids.topic));
      expect(granted).toEqual([expect.objectContaining({ Action: 'sns:Publish', Resource: ref(ids.topic) })]);
    });

    it('lets each alarm, and only its own alarms, invoke the relay', () => {
      // Prepare
      const alarmIds = Object.keys(template.findResources('AWS::CloudWatch::Alarm'));

      // Act
      const permissions = Object.values(
        template.findResources('AWS::Lambda::Permission', {
          Properties: { Principal: 'lambda.alarms.cloudwatch.amazonaws.com' },
        }),
      );

      // Assess
      expect(alarmIds).toHaveLength(5);
      expect(permissions.map((p) => p.Properties.SourceArn['Fn::GetAtt'][0]).sort()).toEqual(alarmIds.sort());
      for (const permission of permissions) {
        expect(permission.Properties).toMatchObject({
          Action: 'lambda:InvokeFunction',
          FunctionName: relayArn(),
          SourceAccount: '111122223333',
        });
      }
    });

    it('uses the alarm action it is given instead, and then makes no relay', () => {
      // Act
      const direct = operatorStack({ snsAction: true });

      // Assess
      const alarms = Object.values(direct.template.findResources('AWS::CloudWatch::Alarm'));
      expect(alarms).toHaveLength(5);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toEqual([ref(direct.ids.topic)]);
      }
      expect(direct.view.relay).toBeUndefined();
      direct.template.resourcePropertiesCountIs(
        'AWS::Lambda::Function',
        { Environment: { Variables: { KDG_HANDLER: 'alarm-relay' } } },
        0,
      );
    });
  });

  describe('without a fast path', () => {
    const plain = operatorStack({ fastPath: false });

    it('has no dead-letter alarm, fast-path metric, query or widget', () => {
      // Act
      const titles = dashboardBody(plain.template).widgets.map((widget) => widget.properties.title);

      // Assess
      expect(Object.keys(plain.view.alarms).sort()).toEqual([
        'ChecksFailing',
        'ExecutionErrors',
        'ExecutionsStoppedOrTimedOut',
        'RestoreFailed',
      ]);
      plain.template.resourcePropertiesCountIs(
        'AWS::Logs::MetricFilter',
        { MetricTransformations: [Match.objectLike({ MetricName: 'FastPathActions' })] },
        0,
      );
      expect(queryNamed(plain.template, 'Fast-path actions')).toBeUndefined();
      expect(titles).not.toContain('Fast-path actions');
    });
  });

  describe('saved queries', () => {
    it('saves one Logs Insights query per question an operator asks, under the stack’s name', () => {
      // Act
      const names = Object.values(template.findResources('AWS::Logs::QueryDefinition')).map(
        (q) => q.Properties.Name,
      );

      // Assess
      expect(names.sort()).toEqual(
        [
          'Check errors',
          'Evidence found',
          'Executions by latest state',
          'Failed executions',
          'Fast-path actions',
          'Holds by phase',
          'One key end to end (replace KEY_ID)',
          'Outcomes',
          'Restore failures',
          'Warnings and errors',
        ]
          .map((name) => `Ops/${name}`)
          .sort(),
      );
    });

    it('finds failed executions: stopped, timed out, or ended in an error that is not an outcome', () => {
      // Act
      const query = queryNamed(template, 'Failed executions');

      // Assess
      expect(query).toEqual({
        Name: 'Ops/Failed executions',
        LogGroupNames: [ref(ids.executionLogs)],
        QueryString:
          'filter type in ["ExecutionAborted", "ExecutionTimedOut"] or (type = "ExecutionFailed" and ' +
          'details.error not in ["REFUSED", "REJECTED", "APPROVAL_EXPIRED", "ROLLED_BACK", "DELETION_CANCELLED"])\n' +
          '| fields @timestamp, execution_arn, type, details.error, details.cause\n' +
          '| sort @timestamp desc',
      });
    });

    it('names DELETION_SCHEDULED, the one outcome that is not a Fail error, in the outcomes', () => {
      // Act
      const query = queryNamed(template, 'Outcomes');

      // Assess
      expect(query?.QueryString).toBe(
        'filter type in ["ExecutionSucceeded", "ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"]\n' +
          '| fields coalesce(details.error, replace(type, "ExecutionSucceeded", "DELETION_SCHEDULED")) as outcome\n' +
          '| stats count(*) as executions by outcome',
      );
    });

    it('finds evidence in the checks’ and the fast path’s logs, and restore failures in the execution log', () => {
      // Act
      const evidence = queryNamed(template, 'Evidence found');
      const restores = queryNamed(template, 'Restore failures');

      // Assess
      expect(evidence?.LogGroupNames).toEqual([ref(ids.checkLogs), ref(ids.fastPathLogs)]);
      expect(evidence?.QueryString).toMatch(
        /^filter \(message = "check done" and evidence > 0\) or message = "The fast path undid the hold"\n/,
      );
      expect(restores).toMatchObject({
        LogGroupNames: [ref(ids.executionLogs)],
        QueryString: expect.stringContaining(
          `filter type = "PassStateEntered" and details.name = "${RESTORE_FAILED_STATE}"`,
        ),
      });
    });

    it('reads from the execution log only what Step Functions writes without execution data', () => {
      // Prepare: the state machine logs without execution data (no input, output or parameters):
      // each event keeps its type and execution, a state's name, an ending's error and cause.
      const logged = new Set([
        'type',
        'execution_arn',
        'details.name',
        'details.error',
        'details.cause',
        '@timestamp',
      ]);
      const executionQueries = Object.values(template.findResources('AWS::Logs::QueryDefinition')).filter(
        (q) => JSON.stringify(q.Properties.LogGroupNames).includes(`"${ids.executionLogs}"`),
      );
      const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')).filter((f) =>
        JSON.stringify(f.Properties.LogGroupName).includes(`"${ids.executionLogs}"`),
      );

      // Act
      const fieldsRead = [
        ...executionQueries.flatMap(
          (q) => (q.Properties.QueryString as string).match(/\b(?:details\.\w+|execution_arn|type)\b/g) ?? [],
        ),
        ...filters.flatMap((f) =>
          ((f.Properties.FilterPattern as string).match(/\$\.[\w.]+/g) ?? []).map((p) => p.slice(2)),
        ),
      ];

      // Assess
      expect(executionQueries.length).toBeGreaterThan(0);
      expect(filters.length).toBeGreaterThan(0);
      expect(fieldsRead.filter((field) => !logged.has(field))).toEqual([]);
      expect(queryNamed(template, 'Restore failures')?.QueryString).toBe(
        `filter type = "PassStateEntered" and details.name = "${RESTORE_FAILED_STATE}"\n| fields @timestamp, execution_arn\n| sort @timestamp desc`,
      );
      // The execution log names no key any more: a key is followed through the functions' logs.
      expect(queryNamed(template, 'One key end to end (replace KEY_ID)')?.LogGroupNames).not.toContainEqual(
        ref(ids.executionLogs),
      );
    });

    it('searches every function’s log for warnings, errors and runtime failures', () => {
      // Act
      const query = queryNamed(template, 'Warnings and errors');

      // Assess
      expect(query?.LogGroupNames).toHaveLength(4);
      expect(query?.QueryString).toMatch(
        /^filter level in \["WARN", "ERROR"\] or @message like \/Invoke Error\|Task timed out\/\n/,
      );
    });
  });

  it('has no unacknowledged cdk-nag AwsSolutions findings', () => {
    // Act
    const report = new AwsSolutionsChecks(ops.stack).validateScope(ops.view);

    // Assess
    expect(
      report.violations.map(
        (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
      ),
    ).toEqual([]);
  });
});

describe('OperatorView metric filters', () => {
  /** The view's filter pattern for a metric, compiled by the simulator's CloudWatch Logs filter engine. */
  function matches(metricName: string): (line: Record<string, unknown>) => boolean {
    const filters = Object.values(
      template.findResources('AWS::Logs::MetricFilter', {
        Properties: { MetricTransformations: [Match.objectLike({ MetricName: metricName })] },
      }),
    );
    expect(filters).toHaveLength(1);
    const matcher = compileFilterPattern(filters[0]?.Properties.FilterPattern as string);
    return (line) => matcher({ message: () => JSON.stringify(line), json: () => line });
  }

  /** A Step Functions execution log event (log level ALL), as the state machine writes it. */
  const executionEvent = (type: string, details: Record<string, unknown>) => ({
    id: '42',
    type,
    details,
    previous_event_id: '41',
    event_timestamp: '1770876000000',
    execution_arn: 'arn:aws:states:us-east-1:111122223333:execution:Guard:run-1',
    redrive_count: '0',
  });

  /** A handler's structured line, as its logger writes it. */
  const handlerLine = (handler: string, level: string, message: string, fields: Record<string, unknown>) => ({
    level,
    message,
    timestamp: '2026-02-12T06:00:00.000Z',
    service: 'kms-deletion-guard',
    sampling_rate: 0,
    handler,
    ...fields,
  });

  it('counts an execution that ended ABORTED or in an error outside its endings, never an outcome', () => {
    // Prepare
    const match = matches('ExecutionErrors');
    const failed = (error: string) => executionEvent('ExecutionFailed', { error, cause: `${error}: ...` });

    // Assess
    expect(match(failed('ABORTED'))).toBe(true);
    expect(match(failed('States.Runtime'))).toBe(true);
    for (const outcome of EXPECTED_FAIL_OUTCOMES) {
      expect(match(failed(outcome)), outcome).toBe(false);
    }
    expect(match(executionEvent('ExecutionSucceeded', { output: '{}' }))).toBe(false);
    expect(match(executionEvent('FailStateEntered', { name: 'Aborted', input: '{}' }))).toBe(false);
  });

  it('counts a restore that failed once, when the workflow enters its restore-failed state', () => {
    // Prepare
    const match = matches('RestoreFailures');

    // Assess
    expect(match(executionEvent('PassStateEntered', { name: RESTORE_FAILED_STATE, input: '{}' }))).toBe(true);
    expect(match(executionEvent('PassStateExited', { name: RESTORE_FAILED_STATE, output: '{}' }))).toBe(
      false,
    );
    expect(match(executionEvent('PassStateEntered', { name: 'TakeFastPathEvidence', input: '{}' }))).toBe(
      false,
    );
  });

  it('counts the evidence of a check that found some, and no other line', () => {
    // Prepare
    const match = matches('EvidenceFound');
    const checkDone = (evidence: number) =>
      handlerLine('check', 'INFO', LOG_MESSAGES.checkDone, {
        phase: 'OBSERVE',
        evidence,
        broke: evidence > 0,
      });

    // Assess
    expect(match(checkDone(2))).toBe(true);
    expect(match(checkDone(0))).toBe(false);
    expect(match(handlerLine('check', 'INFO', 'next check scheduled', { evidence: 3 }))).toBe(false);
  });

  it('counts retried checks and failed watches as check failures, not a check that ran', () => {
    // Prepare
    const match = matches('CheckFailures');
    const error = { name: 'ThrottlingException', message: 'Rate exceeded' };

    // Assess
    expect(match(handlerLine('check', 'WARN', LOG_MESSAGES.checkRetried, { error, attempt: 1 }))).toBe(true);
    expect(match(handlerLine('check', 'WARN', LOG_MESSAGES.watchFailed, { error }))).toBe(true);
    expect(match(handlerLine('check', 'INFO', LOG_MESSAGES.checkDone, { evidence: 0 }))).toBe(false);
  });

  it('counts each key the fast path gave back', () => {
    // Prepare
    const match = matches('FastPathActions');

    // Assess
    expect(match(handlerLine('fast-path', 'INFO', LOG_MESSAGES.fastPathActed, { action: 'EnableKey' }))).toBe(
      true,
    );
    expect(match(handlerLine('fast-path', 'INFO', 'fast path done', { keys: [] }))).toBe(false);
  });
});

describe('OperatorView contracts', () => {
  it('takes every outcome but ABORTED and DELETION_SCHEDULED as the workflow doing its job', () => {
    // Assess
    expect([...EXPECTED_FAIL_OUTCOMES].sort()).toEqual(
      ['APPROVAL_EXPIRED', 'DELETION_CANCELLED', 'REFUSED', 'REJECTED', 'ROLLED_BACK'].sort(),
    );
  });

  it.each([
    [LOG_MESSAGES.checkDone, ['phase', 'keyArn', 'evidence']],
    [LOG_MESSAGES.checkRetried, ['error', 'attempt']],
    [LOG_MESSAGES.watchFailed, ['error']],
    [LOG_MESSAGES.fastPathActed, ['keyArn', 'action', 'caller', 'eventID']],
  ])('matches a line the handlers log: "%s" with %o', (message, fields) => {
    // Prepare
    const sources = readdirSync(LAMBDAS, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(path.join(LAMBDAS, file), 'utf8'));
    const call = new RegExp(`logger\\.\\w+\\(\\s*'${message}',\\s*\\{([\\s\\S]*?)\\}\\);`);

    // Act
    const logged = sources.flatMap((source) => {
      const match = call.exec(source);
      return match ? [match[1] ?? ''] : [];
    });

    // Assess
    expect(logged).toHaveLength(1);
    for (const field of fields) {
      expect(logged[0], field).toMatch(new RegExp(`\\b${field}\\b`));
    }
  });

  describe('the workflow of the product’s stack', () => {
    const { template: product } = synthStack();
    const definition = definitionOf(product);

    it('logs every event of its executions, so state entries reach the execution log', () => {
      // Assess
      product.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
      });
    });

    it('enters the restore-failed state only from a restore step’s Catch, and ends there RESTORE_FAILED', () => {
      // Prepare
      const entries = Object.entries(definition.States).flatMap(([name, state]) => [
        ...(state.Next === RESTORE_FAILED_STATE ? [`${name} (Next)`] : []),
        ...(state.Catch ?? []).filter((c) => c.Next === RESTORE_FAILED_STATE).map(() => name),
      ]);

      // Act: follow the notice to its end (a Choice's default is its way on).
      let at = RESTORE_FAILED_STATE;
      const path: string[] = [];
      const onward = (name: string) => definition.States[name]?.Next ?? definition.States[name]?.Default;
      while (onward(at)) {
        path.push(at);
        at = onward(at) as string;
      }

      // Assess
      expect(definition.States[RESTORE_FAILED_STATE]?.Type).toBe('Pass');
      expect(entries.sort()).toEqual(
        [
          'Restore',
          'RollBack',
          'CancelDeletion',
          'RestoreAfterRejection',
          'RestoreAfterExpiry',
          'RestoreAfterInventory',
        ].sort(),
      );
      expect(definition.States[at]).toMatchObject({ Type: 'Fail', Error: 'ABORTED' });
      expect(String(definition.States[at]?.Cause)).toMatch(/^RESTORE_FAILED: /);
    });
  });
});
