import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { KeyDeletionGuard, type KeyDeletionGuardProps } from './constructs/key-deletion-guard.js';

export interface KmsDeletionGuardStackProps extends StackProps {
  /** The product's configuration (`cdk.json` context for the app); validated by the construct. */
  readonly guard: KeyDeletionGuardProps;
}

/** Only wires the construct and names its outputs. */
export class KmsDeletionGuardStack extends Stack {
  public readonly guard: KeyDeletionGuard;

  constructor(scope: Construct, id: string, props: KmsDeletionGuardStackProps) {
    super(scope, id, props);
    this.guard = new KeyDeletionGuard(this, 'Guard', props.guard);
    new CfnOutput(this, 'StateMachineArn', { value: this.guard.stateMachine.stateMachineArn });
    new CfnOutput(this, 'TopicArn', { value: this.guard.topic.topicArn });
    new CfnOutput(this, 'ApprovalUrl', { value: this.guard.approvalUrl });
  }
}
