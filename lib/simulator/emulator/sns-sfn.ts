/**
 * The two services the fast-path Lambda calls besides KMS: SNS `Publish` (the evidence e-mail; the
 * AWS Query protocol, form-encoded requests and XML answers, as `@aws-sdk/client-sns` speaks it) and
 * Step Functions `DescribeExecution` (JSON 1.0), which tells the fast path whether the execution
 * that holds a key still runs. The workflow's own publish tasks run in the engine, not here.
 */
import { deterministicUuid } from './cloudtrail.js';
import { AwsError } from './errors.js';

/** One message published over HTTP (by a Lambda), as the simulation result lists notifications. */
export interface PublishedMessage {
  readonly at: string;
  readonly topicArn: string;
  readonly subject: string;
  readonly message: string;
  /** String message attributes (`kind`, `execution`, ...). */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface QueryAnswer {
  readonly status: number;
  readonly xml: string;
  readonly requestId: string;
}

const SNS_NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `MessageAttributes.entry.N.Name` / `.Value.StringValue` pairs of a Query request. */
export function messageAttributesOf(form: URLSearchParams): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [field, name] of form) {
    const match = /^MessageAttributes\.entry\.(\d+)\.Name$/.exec(field);
    if (match) {
      const value = form.get(`MessageAttributes.entry.${match[1]}.Value.StringValue`);
      if (value !== null) {
        attributes[name] = value;
      }
    }
  }
  return attributes;
}

export class SnsService {
  private readonly messages: PublishedMessage[] = [];
  private counter = 0;

  constructor(
    private readonly account: string,
    private readonly clock: () => Date,
  ) {}

  published(): readonly PublishedMessage[] {
    return this.messages;
  }

  /** One Query-protocol request; never throws for an AWS-level error. */
  serve(form: URLSearchParams): QueryAnswer {
    this.counter += 1;
    const requestId = deterministicUuid(this.account, 'sns-request', this.counter);
    const action = form.get('Action') ?? '';
    if (action !== 'Publish') {
      return this.error(
        requestId,
        'InvalidAction',
        `The emulated SNS does not serve ${action || '(no action)'}.`,
      );
    }
    const topicArn = form.get('TopicArn') ?? '';
    const message = form.get('Message');
    if (!/^arn:[^:]+:sns:[^:]+:\d{12}:.+$/.test(topicArn) || message === null) {
      return this.error(requestId, 'InvalidParameter', 'Invalid parameter: TopicArn or Message');
    }
    this.messages.push({
      at: this.clock().toISOString(),
      topicArn,
      subject: form.get('Subject') ?? '',
      message,
      attributes: messageAttributesOf(form),
    });
    const messageId = deterministicUuid(this.account, 'sns-message', this.counter);
    return {
      status: 200,
      requestId,
      xml: `<PublishResponse xmlns="${SNS_NAMESPACE}"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
    };
  }

  private error(requestId: string, code: string, message: string): QueryAnswer {
    return {
      status: 400,
      requestId,
      xml: `<ErrorResponse xmlns="${SNS_NAMESPACE}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

interface ExecutionEntry {
  status: ExecutionStatus;
  readonly startDate: Date;
  stopDate: Date | null;
}

/** The executions the simulation runs, so `DescribeExecution` answers as Step Functions would. */
export class SfnService {
  private readonly executions = new Map<string, ExecutionEntry>();

  constructor(private readonly clock: () => Date) {}

  setStatus(executionArn: string, status: ExecutionStatus): void {
    const now = this.clock();
    const entry = this.executions.get(executionArn);
    if (entry) {
      entry.status = status;
      entry.stopDate = status === 'RUNNING' ? null : now;
    } else {
      this.executions.set(executionArn, {
        status,
        startDate: now,
        stopDate: status === 'RUNNING' ? null : now,
      });
    }
  }

  handle(operation: string, request: Record<string, unknown>): Record<string, unknown> {
    if (operation !== 'DescribeExecution') {
      throw new AwsError(
        'UnknownOperationException',
        `The emulated Step Functions does not serve ${operation}.`,
      );
    }
    const executionArn = request.executionArn;
    if (
      typeof executionArn !== 'string' ||
      !/^arn:[^:]+:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/.test(executionArn)
    ) {
      throw new AwsError('InvalidArn', `Invalid Arn: '${String(executionArn)}'`);
    }
    const entry = this.executions.get(executionArn);
    if (!entry) {
      throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    }
    const [, , , , , , machine = '', name = ''] = executionArn.split(':');
    const machineArn = executionArn.replace(/:execution:[^:]+:[^:]+$/, `:stateMachine:${machine}`);
    return {
      executionArn,
      stateMachineArn: machineArn,
      name,
      status: entry.status,
      startDate: entry.startDate.getTime() / 1000,
      ...(entry.stopDate ? { stopDate: entry.stopDate.getTime() / 1000 } : {}),
    };
  }
}
