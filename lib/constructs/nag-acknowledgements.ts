import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Renders a CloudFormation value the way cdk-nag names it in a finding ID (`<Logical.Arn>`,
 * `<AWS::Partition>`), so an acknowledgement names the exact resource it covers and a new
 * wildcard elsewhere still fails the check.
 */
export function nagResourceName(scope: IConstruct, value: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node;
    const object = node as Record<string, unknown>;
    if (object['Fn::Join']) {
      const [delimiter, items] = object['Fn::Join'] as [string, unknown[]];
      return items.map(visit).join(delimiter);
    }
    if (object['Fn::GetAtt']) {
      const [resource, attribute] = object['Fn::GetAtt'] as [string, string];
      return `<${resource}.${attribute}>`;
    }
    if (object.Ref) return `<${String(object.Ref)}>`;
    return JSON.stringify(node);
  };
  return visit(Stack.of(scope).resolve(value));
}

/** Acknowledges one IAM5 wildcard finding per resource, each with its reason. */
export function acknowledgeWildcards(
  scope: IConstruct,
  resources: readonly { readonly resource: string; readonly reason: string }[],
): void {
  for (const { resource, reason } of resources) {
    Validations.of(scope).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResourceName(scope, resource)}]`,
      reason,
    });
  }
}

/**
 * What every GuardFunction needs acknowledged: X-Ray, which takes no resource, and cdk-nag's latest
 * runtime rule (the handlers are built and tested for Node.js 22 only).
 */
export function acknowledgeGuardFunction(fn: IConstruct): void {
  acknowledgeWildcards(fn, [
    {
      resource: '*',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
    },
  ]);
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason: 'The handlers target Node.js 22, the runtime this project builds, tests and bundles for.',
  });
}
