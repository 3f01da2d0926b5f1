import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { OUTCOMES, type Outcome } from '../../lambdas/contracts/outcomes.js';
import { GuardFunction } from './guard-function.js';

/**
 * Outcomes that are the workflow doing its job, not failing at it: every Fail error of its own endings
 * but ABORTED (an error it gave the key back after). DELETION_SCHEDULED is no Fail error: that execution
 * succeeds. Every other Fail error (ABORTED, States.Runtime, ...) is a failure.
 */
export const EXPECTED_FAIL_OUTCOMES: readonly Outcome[] = OUTCOMES.filter(
  (outcome) => outcome !== 'ABORTED' && outcome !== 'DELETION_SCHEDULED',
);

/**
 * The state a restore that could not finish enters, and only such a restore: the Catch of every
 * restore step leads there (the workflow's definition; a test pins it). Matched by its state-entered
 * event rather than by the execution's end, because the e-mail after it can fail too, and the execution
 * then ends with that error instead of RESTORE_FAILED.
 */
export const RESTORE_FAILED_STATE = 'PrepareRestoreFailedNotice';

/** The structured log lines the metric filters and queries read (the handlers' logger calls; a test pins them). */
export const LOG_MESSAGES = {
  /** check: one check ran; fields `phase`, `keyArn`, `evidence` (failed calls found by this check). */
  checkDone: 'check done',
  /** check: a transient error, the same check is scheduled again; fields `error`, `attempt`. */
  checkRetried: 'check failed transiently, retry scheduled',
  /** check: the watch failed with the check's error, and the workflow restores the key. */
  watchFailed: 'watch failed',
  /** fast-path: a key was given back; fields `keyArn`, `action`, `caller`, `eventID`. */
  fastPathActed: 'The fast path undid the hold',
} as const;

/** Names of the metrics the stack's log lines are turned into, in `OperatorView.metricNamespace`. */
export const OPERATOR_METRICS = {
  executionErrors: 'ExecutionErrors',
  restoreFailures: 'RestoreFailures',
  evidenceFound: 'EvidenceFound',
  checkFailures: 'CheckFailures',
  fastPathActions: 'FastPathActions',
} as const;

/** One Lambda and the log group it writes its structured (JSON) lines to. */
export interface MonitoredFunction {
  readonly function: lambda.IFunction;
  readonly logGroup: logs.ILogGroup;
}

/** The workflow's Lambdas by role. */
export interface OperatorViewFunctions {
  /** Runs the watch's checks: evidence found, check failures. */
  readonly check: MonitoredFunction;
  /** Gives a key back (re-enables it, cancels its deletion). */
  readonly restore: MonitoredFunction;
  /**
   * Reads the key and applies the refusal rules.
   * @default not shown
   */
  readonly assess?: MonitoredFunction;
  /**
   * Disables the key.
   * @default not shown
   */
  readonly disable?: MonitoredFunction;
  /**
   * Schedules the deletion.
   * @default not shown
   */
  readonly scheduleDeletion?: MonitoredFunction;
  /**
   * Makes approval links and sends the approval e-mails.
   * @default not shown
   */
  readonly requestApproval?: MonitoredFunction;
  /**
   * Serves the approval page.
   * @default not shown
   */
  readonly approval?: MonitoredFunction;
  /**
   * Searches the log group for every held key (with `sweep`).
   * @default not shown, and no sweep alarm
   */
  readonly sweep?: MonitoredFunction;
}

/** The fast path's Lambda and the queue that keeps the events it could not act on. */
export interface OperatorViewFastPath extends MonitoredFunction {
  readonly deadLetterQueue: sqs.IQueue;
}

export interface OperatorViewProps {
  /** The per-key workflow: its stopped and timed-out executions. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * The state machine's execution log group. Outcomes and failed restores are read from it, so it must
   * receive every event (log level ALL): a state's entry is logged at no other level. Only what Step
   * Functions logs without execution data is read: each event's `type`, `execution_arn`, a state's
   * `details.name`, and an ended execution's `details.error` and `details.cause` (never an input or
   * output, which stay in the execution history).
   */
  readonly executionLogGroup: logs.ILogGroup;
  readonly functions: OperatorViewFunctions;
  /**
   * The fast path, when the stack has one.
   * @default no fast-path widget, query or dead-letter alarm (the fast path is off)
   */
  readonly fastPath?: OperatorViewFastPath;
  /** Alarms notify here: the topic of the approval and evidence e-mails, so the same people see them. */
  readonly topic: sns.ITopic;
  /**
   * What an alarm does when it goes into ALARM.
   *
   * The default relays through a Lambda, because CloudWatch cannot publish to a topic encrypted with
   * the AWS managed key `alias/aws/sns` (that key's policy lets no service principal use it and cannot
   * be changed), which is how the stack's topic is encrypted. Pass `new SnsAction(topic)` for a topic
   * whose key lets CloudWatch in.
   * @default a Lambda (handler `alarm-relay`) that publishes the alarm to `topic`
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
  /**
   * Names the dashboard, the alarms, the saved queries and the metric namespace, so two stacks in one
   * account and Region stay apart.
   * @default the stack name
   */
  readonly namePrefix?: string;
  /**
   * Check failures within `checkFailureWindow` that raise the alarm. One transient failure is retried and
   * says little; a check that keeps failing is retried within minutes, so several arrive in an hour.
   * @default 3
   */
  readonly checkFailureThreshold?: number;
  /**
   * The window the check failures are counted in: whole minutes, at most a day.
   * @default Duration.hours(1)
   */
  readonly checkFailureWindow?: Duration;
}

/** A setting of the operator view that CloudWatch would refuse at deploy time. */
export class OperatorViewConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OperatorViewConfigError';
  }
}

/** One saved Logs Insights query: its lines (joined with `|`) and the log groups it reads. */
interface SavedQuery {
  readonly name: string;
  readonly lines: readonly string[];
  readonly logGroups: readonly logs.ILogGroup[];
}

const quoted = (values: readonly string[]) => `[${values.map((value) => `"${value}"`).join(', ')}]`;

// Uncaught errors and timeouts are written by the Lambda runtime as text, not by the handlers' logger.
const RUNTIME_FAILURE = '@message like /Invoke Error|Task timed out/';

/**
 * What a team operating the stack looks at: a CloudWatch dashboard (holds by phase, outcomes, evidence
 * found, fast-path actions, check errors), alarms that notify the stack's topic (failed, stopped or
 * timed-out executions, a restore that failed, events in the fast path's dead-letter queue, checks
 * failing repeatedly), and saved Logs Insights queries over the structured logs.
 *
 * Outcomes cannot come from Step Functions' own metrics: every ending but DELETION_SCHEDULED is a Fail
 * state, so ExecutionsFailed counts refusals and rollbacks with the errors. They come from the
 * execution log instead, where each end names its error.
 */
export class OperatorView extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  /** The alarms by what they watch. */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  public readonly queries: readonly logs.CfnQueryDefinition[];
  /** The namespace of the metrics made from log lines (OPERATOR_METRICS). */
  public readonly metricNamespace: string;
  /** The Lambda that relays alarms to the topic, unless `alarmAction` was given. */
  public readonly relay: GuardFunction | undefined;

  constructor(scope: Construct, id: string, props: OperatorViewProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? Stack.of(this).stackName;
    const threshold = props.checkFailureThreshold ?? 3;
    const window = props.checkFailureWindow ?? Duration.hours(1);
    if (!Number.isInteger(threshold) || threshold < 1) {
      throw new OperatorViewConfigError(
        `checkFailureThreshold must be a whole number of at least 1; received ${threshold}.`,
      );
    }
    const windowSeconds = window.toSeconds();
    if (windowSeconds < 60 || windowSeconds % 60 !== 0 || windowSeconds > 86_400) {
      throw new OperatorViewConfigError(
        `checkFailureWindow must be whole minutes from 1 minute to 1 day; received ${window.toHumanString()}.`,
      );
    }
    this.metricNamespace = `KmsDeletionGuard/${prefix}`;
    const { check, restore } = props.functions;
    const fastPath = props.fastPath;
    const executionLog = props.executionLogGroup;

    // --- Metrics from log lines ------------------------------------------------------------------
    const J = logs.FilterPattern;
    const metricFilter = (
      name: string,
      logGroup: logs.ILogGroup,
      filterPattern: logs.IFilterPattern,
      extra: { metricValue?: string; dimensions?: Record<string, string> } = {},
    ) =>
      new logs.MetricFilter(this, `${name}Filter`, {
        logGroup,
        filterPattern,
        metricNamespace: this.metricNamespace,
        metricName: name,
        metricValue: extra.metricValue ?? '1',
        ...(extra.dimensions ? { dimensions: extra.dimensions } : {}),
      });
    const sum = (
      metricName: string,
      period: Duration,
      label?: string,
      dimensionsMap?: Record<string, string>,
    ) =>
      new cloudwatch.Metric({
        namespace: this.metricNamespace,
        metricName,
        statistic: cloudwatch.Stats.SUM,
        period,
        ...(label ? { label } : {}),
        ...(dimensionsMap ? { dimensionsMap } : {}),
      });

    metricFilter(
      OPERATOR_METRICS.executionErrors,
      executionLog,
      J.all(
        J.stringValue('$.type', '=', 'ExecutionFailed'),
        ...EXPECTED_FAIL_OUTCOMES.map((outcome) => J.stringValue('$.details.error', '!=', outcome)),
      ),
    );
    metricFilter(
      OPERATOR_METRICS.restoreFailures,
      executionLog,
      J.all(
        J.stringValue('$.type', '=', 'PassStateEntered'),
        J.stringValue('$.details.name', '=', RESTORE_FAILED_STATE),
      ),
    );
    metricFilter(
      OPERATOR_METRICS.evidenceFound,
      check.logGroup,
      J.all(J.stringValue('$.message', '=', LOG_MESSAGES.checkDone), J.numberValue('$.evidence', '>', 0)),
      { metricValue: '$.evidence' },
    );
    metricFilter(
      OPERATOR_METRICS.checkFailures,
      check.logGroup,
      J.any(
        J.stringValue('$.message', '=', LOG_MESSAGES.checkRetried),
        J.stringValue('$.message', '=', LOG_MESSAGES.watchFailed),
      ),
    );
    if (fastPath) {
      metricFilter(
        OPERATOR_METRICS.fastPathActions,
        fastPath.logGroup,
        J.stringValue('$.message', '=', LOG_MESSAGES.fastPathActed),
        { dimensions: { Action: '$.action' } },
      );
    }

    // --- Alarms ----------------------------------------------------------------------------------
    let alarmAction: cloudwatch.IAlarmAction;
    if (props.alarmAction) {
      alarmAction = props.alarmAction;
      this.relay = undefined;
    } else {
      this.relay = this.alarmRelay(props.topic);
      alarmAction = new actions.LambdaAction(this.relay.function, { useUniquePermissionId: true });
    }

    const fiveMinutes = Duration.minutes(5);
    const alarms: Record<string, cloudwatch.Alarm> = {};
    const alarm = (name: string, description: string, metric: cloudwatch.IMetric, atLeast: number) => {
      const created = new cloudwatch.Alarm(this, `${name}Alarm`, {
        alarmName: `${prefix}-${name}`,
        alarmDescription: description,
        metric,
        threshold: atLeast,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No data is the normal case: nothing failed.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(alarmAction);
      alarms[name] = created;
      return created;
    };

    alarm(
      'ExecutionErrors',
      'A kms-deletion-guard execution ended in an error: ABORTED (the workflow gave the key back after an ' +
        'error, a blind CloudTrail source or a change by someone else) or an error outside its own endings. ' +
        `Find it with the saved query "${prefix}/Failed executions" or kms-deletion-guard status, read the ` +
        "cause, and check that the key is in the state the execution's e-mail says.",
      sum(OPERATOR_METRICS.executionErrors, fiveMinutes),
      1,
    );
    alarm(
      'ExecutionsStoppedOrTimedOut',
      'A kms-deletion-guard execution was stopped by hand or timed out. Nothing gave its key back: a key it ' +
        "disabled stays Disabled and a deletion it scheduled stays scheduled. Read the key's kms-deletion-guard:* " +
        'tags, then enable it (aws kms enable-key) or cancel its deletion (aws kms cancel-key-deletion) if it is still needed.',
      new cloudwatch.MathExpression({
        expression: 'FILL(aborted, 0) + FILL(timedOut, 0)',
        usingMetrics: {
          aborted: props.stateMachine.metricAborted({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
          timedOut: props.stateMachine.metricTimedOut({
            period: fiveMinutes,
            statistic: cloudwatch.Stats.SUM,
          }),
        },
        period: fiveMinutes,
        label: 'Executions stopped or timed out',
      }),
      1,
    );
    alarm(
      'RestoreFailed',
      'ACTION NEEDED: kms-deletion-guard could not give a key back after an error, though it retried for ' +
        'minutes. The key may still be Disabled or pending deletion. Find it with the saved query ' +
        `"${prefix}/Restore failures", then enable it (aws kms enable-key) or cancel its deletion ` +
        '(aws kms cancel-key-deletion) if it is still needed.',
      sum(OPERATOR_METRICS.restoreFailures, Duration.minutes(1)),
      1,
    );
    alarm(
      'ChecksFailing',
      `Checks of held keys failed ${threshold} times or more within ${window.toHumanString()} (transient ` +
        'errors retried, watches failed, or errors of the check function). A watch that keeps failing ends ' +
        'in a restore: fix the cause (permissions, throttling, a missing log group) before more do. ' +
        `See the saved query "${prefix}/Check errors".`,
      new cloudwatch.MathExpression({
        expression: 'FILL(failures, 0) + FILL(errors, 0)',
        usingMetrics: {
          failures: sum(OPERATOR_METRICS.checkFailures, window),
          errors: check.function.metricErrors({ period: window, statistic: cloudwatch.Stats.SUM }),
        },
        period: window,
        label: 'Check failures',
      }),
      threshold,
    );
    const sweep = props.functions.sweep;
    if (sweep) {
      alarm(
        'SweepFailing',
        'The sweep, which searches the CloudTrail log group for every held key (or, with sweepSubscription, proves ' +
          "that the log group's subscription lost no failed call), failed. Its schedule tries again " +
          'every five minutes; while it fails its sightings age, and once they are older than the checks accept ' +
          '(two sweep intervals) every check fails with SweepBehindError and its key is given back. Read the ' +
          "sweep function's log (throttling, permissions, a missing log group) and fix the cause.",
        sweep.function.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        1,
      );
    }
    if (fastPath) {
      alarm(
        'FastPathDeadLetters',
        "Events the fast path could not act on wait in its dead-letter queue. The polling watch still acts on the failed calls they record, but up to a check interval later. Read the messages (the CloudTrail event, or the fast path's error) and the saved query " +
          `"${prefix}/Warnings and errors", fix the cause, then delete the messages.`,
        fastPath.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: fiveMinutes,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        1,
      );
    }
    this.alarms = alarms;

    // --- Saved queries -----------------------------------------------------------------------------
    const monitored = Object.entries({ ...props.functions, fastPath }).flatMap(([role, fn]) =>
      fn ? [{ role, ...fn }] : [],
    );
    const allFunctionLogs = monitored.map((fn) => fn.logGroup);
    const endTypes = ['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimedOut'];
    const holdsByPhase: SavedQuery = {
      name: 'Holds by phase',
      // A key's latest check tells its phase; a hold is checked at least once per check interval.
      lines: [
        `filter message = "${LOG_MESSAGES.checkDone}"`,
        'stats latest(phase) as phase by keyArn',
        'stats count(*) as holds by phase',
      ],
      logGroups: [check.logGroup],
    };
    const outcomes: SavedQuery = {
      name: 'Outcomes',
      // The one ending that is not a Fail state succeeds: DELETION_SCHEDULED.
      lines: [
        `filter type in ${quoted(endTypes)}`,
        'fields coalesce(details.error, replace(type, "ExecutionSucceeded", "DELETION_SCHEDULED")) as outcome',
        'stats count(*) as executions by outcome',
      ],
      logGroups: [executionLog],
    };
    const evidenceFound: SavedQuery = {
      name: 'Evidence found',
      lines: [
        `filter (message = "${LOG_MESSAGES.checkDone}" and evidence > 0) or message = "${LOG_MESSAGES.fastPathActed}"`,
        'fields @timestamp, handler, keyArn, phase, evidence, action, caller, eventID',
        'sort @timestamp desc',
      ],
      logGroups: [check.logGroup, ...(fastPath ? [fastPath.logGroup] : [])],
    };
    const checkErrors: SavedQuery = {
      name: 'Check errors',
      lines: [
        `filter message in ${quoted([LOG_MESSAGES.checkRetried, LOG_MESSAGES.watchFailed])} or level = "ERROR" or ${RUNTIME_FAILURE}`,
        'fields @timestamp, message, phase, executionArn, attempt, error.name, error.message, @message',
        'sort @timestamp desc',
      ],
      logGroups: [check.logGroup],
    };
    const queries: SavedQuery[] = [
      holdsByPhase,
      outcomes,
      evidenceFound,
      checkErrors,
      {
        name: 'Failed executions',
        lines: [
          `filter type in ["ExecutionAborted", "ExecutionTimedOut"] or (type = "ExecutionFailed" and details.error not in ${quoted(EXPECTED_FAIL_OUTCOMES)})`,
          'fields @timestamp, execution_arn, type, details.error, details.cause',
          'sort @timestamp desc',
        ],
        logGroups: [executionLog],
      },
      {
        name: 'Restore failures',
        // The log holds no execution data: the key and the restore's error are in the execution's
        // history (the state's input), opened from its ARN.
        lines: [
          `filter type = "PassStateEntered" and details.name = "${RESTORE_FAILED_STATE}"`,
          'fields @timestamp, execution_arn',
          'sort @timestamp desc',
        ],
        logGroups: [executionLog],
      },
      {
        name: 'Executions by latest state',
        lines: [
          'filter type like /StateEntered$/',
          'stats latest(details.name) as state, max(@timestamp) as since by execution_arn',
          'sort since desc',
        ],
        logGroups: [executionLog],
      },
      {
        name: 'Warnings and errors',
        lines: [
          `filter level in ["WARN", "ERROR"] or ${RUNTIME_FAILURE}`,
          'fields @timestamp, handler, level, message, executionArn, keyArn, error.name, error.message, @message',
          'sort @timestamp desc',
        ],
        logGroups: allFunctionLogs,
      },
      {
        // The functions' lines name the key; the execution log holds no execution data, so no key ID.
        name: 'One key end to end (replace KEY_ID)',
        lines: ['filter @message like "KEY_ID"', 'fields @timestamp, @log, @message', 'sort @timestamp asc'],
        logGroups: allFunctionLogs,
      },
    ];
    if (fastPath) {
      queries.push({
        name: 'Fast-path actions',
        lines: [
          `filter message = "${LOG_MESSAGES.fastPathActed}"`,
          'fields @timestamp, keyArn, action, caller, eventID, executionArn',
          'sort @timestamp desc',
        ],
        logGroups: [fastPath.logGroup],
      });
    }
    const queryText = (query: SavedQuery) => query.lines.join('\n| ');
    this.queries = queries.map(
      (query) =>
        new logs.CfnQueryDefinition(this, `${query.name.replace(/[^A-Za-z]/g, '')}Query`, {
          name: `${prefix}/${query.name}`,
          queryString: queryText(query),
          logGroupNames: query.logGroups.map((group) => group.logGroupName),
        }),
    );

    // --- Dashboard ---------------------------------------------------------------------------------
    const logQuery = (title: string, query: SavedQuery, view: cloudwatch.LogQueryVisualizationType) =>
      new cloudwatch.LogQueryWidget({
        title,
        logGroupNames: query.logGroups.map((group) => group.logGroupName),
        queryString: queryText(query),
        view,
        width: 8,
        height: 6,
      });
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = [], width = 8) =>
      new cloudwatch.GraphWidget({ title, left, right, width, height: 6, leftYAxis: { min: 0 } });
    const hour = Duration.hours(1);
    const hourly = (label: string): cloudwatch.MetricOptions => ({
      label,
      period: hour,
      statistic: cloudwatch.Stats.SUM,
    });
    const fastPathActions = ['EnableKey', 'CancelKeyDeletion'].map((action) =>
      sum(OPERATOR_METRICS.fastPathActions, hour, `Fast path: ${action}`, { Action: action }),
    );
    const machine = props.stateMachine;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: prefix,
      // Holds are checked every few hours; a day shows each held key at least once.
      defaultInterval: Duration.days(1),
      widgets: [
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: Object.values(alarms),
            width: 24,
            height: 3,
          }),
        ],
        [
          logQuery(
            'Holds by phase (latest check of each key)',
            holdsByPhase,
            cloudwatch.LogQueryVisualizationType.BAR,
          ),
          logQuery('Outcomes', outcomes, cloudwatch.LogQueryVisualizationType.BAR),
          graph('Executions', [
            machine.metricStarted(hourly('Started')),
            machine.metricSucceeded(hourly('DELETION_SCHEDULED')),
            machine.metricFailed(hourly('Fail state (every other outcome)')),
            machine.metricAborted(hourly('Stopped')),
            machine.metricTimedOut(hourly('Timed out')),
          ]),
        ],
        [
          graph('Evidence found (failed calls on held keys)', [
            sum(OPERATOR_METRICS.evidenceFound, hour, 'Found by checks'),
            ...(fastPath ? fastPathActions : []),
          ]),
          ...(fastPath
            ? [
                graph('Fast-path actions', fastPathActions, [
                  fastPath.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
                    label: 'Dead-letter queue',
                    period: Duration.minutes(5),
                    statistic: cloudwatch.Stats.MAXIMUM,
                  }),
                ]),
              ]
            : []),
          graph('Check errors', [
            sum(OPERATOR_METRICS.checkFailures, hour, 'Failures logged (retried or failing the watch)'),
            check.function.metricErrors(hourly('Check function errors')),
          ]),
        ],
        [
          graph(
            'Lambda errors',
            monitored.map((fn) => fn.function.metricErrors(hourly(fn.role))),
            [],
            16,
          ),
          graph('Restores', [
            sum(OPERATOR_METRICS.restoreFailures, hour, 'Restores that failed'),
            restore.function.metricErrors(hourly('Restore attempts that failed')),
          ]),
        ],
      ],
    });
  }

  /** The Lambda CloudWatch invokes on ALARM; it publishes with its own role, which may use the topic's key. */
  private alarmRelay(topic: sns.ITopic): GuardFunction {
    const relay = new GuardFunction(this, 'AlarmRelay', {
      handler: 'alarm-relay',
      description:
        "kms-deletion-guard: publish the stack's alarms to its notifications topic (CloudWatch cannot use the topic's AWS managed key)",
      environment: { KDG_TOPIC_ARN: topic.topicArn },
    });
    topic.grantPublish(relay.function);
    return relay;
  }
}
