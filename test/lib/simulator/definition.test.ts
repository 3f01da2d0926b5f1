import {
  type CfnTemplate,
  DefinitionError,
  resolveTokens,
  workflowFromTemplate,
} from '../../../lib/simulator/definition.js';

const ENV = { account: '111122223333', region: 'eu-west-1' };

describe('resolveTokens', () => {
  const template: CfnTemplate = {
    Resources: {
      Fn1: { Type: 'AWS::Lambda::Function', Properties: {} },
      Topic1: { Type: 'AWS::SNS::Topic' },
      Group1: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: 'aws-cloudtrail-logs' } },
    },
  };

  it('resolves pseudo parameters, Ref and GetAtt to stable fake values', () => {
    // Act
    const value = resolveTokens(
      {
        'Fn::Join': [
          '|',
          [
            { Ref: 'AWS::Partition' },
            { Ref: 'AWS::Region' },
            { Ref: 'AWS::AccountId' },
            { Ref: 'AWS::URLSuffix' },
            { 'Fn::GetAtt': ['Fn1', 'Arn'] },
            { Ref: 'Topic1' },
            { Ref: 'Group1' },
            { Ref: 'Fn1' },
          ],
        ],
      },
      template,
      ENV,
    );

    // Assess
    expect(String(value).split('|')).toEqual([
      'aws',
      'eu-west-1',
      '111122223333',
      'amazonaws.com',
      'arn:aws:lambda:eu-west-1:111122223333:function:Fn1',
      'arn:aws:sns:eu-west-1:111122223333:Topic1',
      'aws-cloudtrail-logs',
      'Fn1',
    ]);
  });

  it('resolves Fn::Select over Fn::Split as CDK emits for ARN parts', () => {
    // Act
    const value = resolveTokens(
      { 'Fn::Select': [6, { 'Fn::Split': [':', { 'Fn::GetAtt': ['Fn1', 'Arn'] }] }] },
      template,
      ENV,
    );

    // Assess
    expect(value).toBe('Fn1');
  });

  it('refuses a Ref to something that is not in the template', () => {
    // Act / Assess
    expect(() => resolveTokens({ Ref: 'Missing' }, template, ENV)).toThrow(DefinitionError);
  });
});

describe('workflowFromTemplate', () => {
  it('refuses a template without a state machine', () => {
    // Act / Assess
    expect(() => workflowFromTemplate({ Resources: {} }, ENV)).toThrow('the template has no state machine');
  });

  it('maps each Lambda to its handler folder through KDG_HANDLER', () => {
    // Prepare
    const template: CfnTemplate = {
      Resources: {
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { DefinitionString: '{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}' },
        },
        WithHandler: {
          Type: 'AWS::Lambda::Function',
          Properties: { Environment: { Variables: { KDG_HANDLER: 'assess' } } },
        },
        Other: { Type: 'AWS::Lambda::Function', Properties: {} },
      },
    };

    // Act
    const workflow = workflowFromTemplate(template, ENV);

    // Assess
    expect(workflow.functions).toEqual([
      {
        logicalId: 'WithHandler',
        arn: 'arn:aws:lambda:eu-west-1:111122223333:function:WithHandler',
        handler: 'assess',
        environment: { KDG_HANDLER: 'assess' },
        timeoutSeconds: 3,
        memoryMb: 128,
      },
    ]);
  });

  it("reads each function's configured timeout and memory (the simulator enforces the one, the bench bills the other)", () => {
    // Prepare
    const template: CfnTemplate = {
      Resources: {
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { DefinitionString: '{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}' },
        },
        Check: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Timeout: 900,
            MemorySize: 512,
            Environment: { Variables: { KDG_HANDLER: 'check' } },
          },
        },
      },
    };

    // Act
    const [check] = workflowFromTemplate(template, ENV).functions;

    // Assess
    expect(check?.timeoutSeconds).toBe(900);
    expect(check?.memoryMb).toBe(512);
  });
});
