import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HoldRegistry } from '../../../lib/constructs/hold-registry.js';
import { synthStack, TEST_CONFIG } from '../synth.js';

const { template } = synthStack();

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

/** The registry's tables of a synthesized stack (keyed by the key ARN; the approval links are another table). */
function registryTables(t: Template = template): string[] {
  return Object.keys(
    t.findResources('AWS::DynamoDB::Table', {
      Properties: { KeySchema: [{ AttributeName: 'keyArn', KeyType: 'HASH' }] },
    }),
  );
}

/** The logical ID of the registry's table in the synthesized stack. */
function tableId(): string {
  const [id] = registryTables();
  if (!id) throw new Error('the stack has no DynamoDB table');
  return id;
}

/** The function of a handler and the statements its role is granted. */
function handlerOf(handler: string): { variables: Record<string, unknown>; statements: Statement[] } {
  const [fn] = Object.values(
    template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { KDG_HANDLER: handler } } },
    }),
  );
  const roleId = fn?.Properties.Role['Fn::GetAtt'][0] as string;
  const statements = Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
  return { variables: fn?.Properties.Environment.Variables ?? {}, statements };
}

/** The statements that grant DynamoDB actions on the registry's table. */
function dynamoDbStatements(statements: readonly Statement[]): Statement[] {
  return statements.filter(
    (s) =>
      [s.Action].flat().some((a) => a.startsWith('dynamodb:')) &&
      JSON.stringify(s.Resource).includes(`"${tableId()}"`),
  );
}

describe('HoldRegistry', () => {
  it('is one on-demand table keyed by the key ARN, with point-in-time recovery', () => {
    // Assess
    expect(registryTables()).toHaveLength(1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'keyArn', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'keyArn', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('outlives the stack by default: the record of which keys it disabled is wanted most after an uninstall', () => {
    // Assess
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('takes another removal policy when told', () => {
    // Prepare
    const stack = new Stack(new App(), 'Test');

    // Act
    new HoldRegistry(stack, 'Holds', { removalPolicy: RemovalPolicy.DESTROY });

    // Assess
    Template.fromStack(stack).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  it.each(['disable', 'schedule-deletion', 'restore', 'fast-path'])(
    'lets the %s handler read and conditionally write holds on this table only, and names it in its environment',
    (handler) => {
      // Act
      const { variables, statements } = handlerOf(handler);

      // Assess
      expect(variables.KDG_HOLD_TABLE).toEqual({ Ref: tableId() });
      expect(dynamoDbStatements(statements)).toEqual([
        {
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
          Resource: { 'Fn::GetAtt': [tableId(), 'Arn'] },
        },
      ]);
    },
  );

  it.each(['assess', 'check'])(
    'lets the %s handler read holds on this table only, never write them, and names it in its environment',
    (handler) => {
      // Act
      const { variables, statements } = handlerOf(handler);

      // Assess
      expect(variables.KDG_HOLD_TABLE).toEqual({ Ref: tableId() });
      expect(dynamoDbStatements(statements)).toEqual([
        { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': [tableId(), 'Arn'] } },
      ]);
    },
  );

  it.each(['approval'])('gives the %s handler no access to the holds', (handler) => {
    // Act
    const { variables, statements } = handlerOf(handler);

    // Assess
    expect(variables.KDG_HOLD_TABLE).toBeUndefined();
    expect(dynamoDbStatements(statements)).toEqual([]);
  });

  it("stays when fastRollback is off: the workflow's own steps decide from it", () => {
    // Prepare
    const { template: withoutFastPath } = synthStack({ ...TEST_CONFIG, fastRollback: false });

    // Assess
    expect(registryTables(withoutFastPath)).toHaveLength(1);
    expect(
      Object.keys(
        withoutFastPath.findResources('AWS::Lambda::Function', {
          Properties: { Environment: { Variables: { KDG_HANDLER: 'fast-path' } } },
        }),
      ),
    ).toEqual([]);
  });
});
