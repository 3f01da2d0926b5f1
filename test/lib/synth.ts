import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { KeyDeletionGuardConfig } from '../../lib/constructs/config.js';
import { KmsDeletionGuardStack } from '../../lib/kms-deletion-guard-stack.js';

export const TEST_CONFIG: KeyDeletionGuardConfig = {
  approvalEmails: ['ops@example.com'],
  cloudTrailLogGroupName: 'aws-cloudtrail-logs-111122223333',
};

/**
 * Synthesizes the stack without bundling (bundling is proved once, by `cdk synth` in CI and the
 * bundling test), so a template costs well under a second.
 */
export function synthStack(config: KeyDeletionGuardConfig = TEST_CONFIG): {
  stack: KmsDeletionGuardStack;
  template: Template;
} {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new KmsDeletionGuardStack(app, 'Test', {
    env: { account: '111122223333', region: 'us-east-1' },
    guard: config,
  });
  return { stack, template: Template.fromStack(stack) };
}

function fakeArn(token: Record<string, unknown>): string {
  const getAtt = token['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt) return `arn:aws:lambda:us-east-1:111122223333:function:${getAtt[0]}`;
  const ref = token.Ref as string | undefined;
  if (ref === 'AWS::Partition') return 'aws';
  if (ref === 'AWS::Region') return 'us-east-1';
  if (ref === 'AWS::AccountId') return '111122223333';
  if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
  if (ref) return `arn:aws:sns:us-east-1:111122223333:${ref}`;
  throw new Error(`Unexpected token in the definition: ${JSON.stringify(token)}`);
}

/** The state machine definition of a synthesized template, its tokens resolved to fake ARNs. */
export function definitionOf(template: Template): AslDefinition {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const [machine] = Object.values(machines);
  const body = machine?.Properties?.DefinitionString;
  const text =
    typeof body === 'string'
      ? body
      : (body['Fn::Join'][1] as unknown[])
          .map((part) => (typeof part === 'string' ? part : fakeArn(part as Record<string, unknown>)))
          .join('');
  return JSON.parse(text) as AslDefinition;
}

export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Catch?: readonly { readonly ErrorEquals: readonly string[]; readonly Next: string }[];
  readonly Retry?: readonly { readonly ErrorEquals: readonly string[] }[];
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly TimeoutSeconds?: number;
  readonly Error?: string;
  readonly [key: string]: unknown;
}
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly [key: string]: unknown;
}
