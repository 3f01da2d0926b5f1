import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { retainedLogGroup } from './retained-log-group.js';

/** The stage of the approval API; part of every approval link. */
export const APPROVAL_STAGE = 'approval';

export interface ApprovalEndpointProps {
  /**
   * Steady-state requests per second the whole endpoint accepts (people answer a handful of e-mails).
   * @default 5
   */
  readonly rateLimit?: number;
  /**
   * Burst of requests the endpoint accepts above the rate.
   * @default 10
   */
  readonly burstLimit?: number;
}

/**
 * The HTTPS endpoint of the approval page: a regional REST API whose root answers GET (show) and
 * POST (decide) through one Lambda proxy integration.
 *
 * Built in two steps because of the references: the workflow's e-mail needs the URL, the approval
 * Lambda's role needs the state machine, and the API's methods need the Lambda. The URL is therefore
 * composed from the REST API ID and the fixed stage name, never from the Stage or Deployment, which
 * depend on the methods; `connect` adds the methods once the Lambda exists.
 */
export class ApprovalEndpoint extends Construct {
  public readonly api: apigw.RestApi;
  /** `https://<api>.execute-api.<region>.<suffix>/approval/`; the link appends `?link=<one-time secret>`. */
  public readonly url: string;
  private readonly validator: apigw.RequestValidator;

  constructor(scope: Construct, id: string, props: ApprovalEndpointProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);

    const accessLogs = retainedLogGroup(this, 'AccessLogs');

    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `${stack.stackName}-approval`,
      description: 'kms-deletion-guard approval page: GET shows a pending approval, POST decides it',
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // Execution logging (below) needs the account's API Gateway CloudWatch role; CDK keeps the role on
      // stack deletion so other APIs of the account keep logging.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: APPROVAL_STAGE,
        throttlingRateLimit: props.rateLimit ?? 5,
        throttlingBurstLimit: props.burstLimit ?? 10,
        // ERROR, without data tracing: INFO and data traces would write the query string (the link's secret).
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        // Only fields without the query string: $context.path and $context.resourcePath carry no secret.
        accessLogFormat: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: apigw.AccessLogField.contextRequestId(),
            requestTime: apigw.AccessLogField.contextRequestTime(),
            sourceIp: apigw.AccessLogField.contextIdentitySourceIp(),
            userAgent: apigw.AccessLogField.contextIdentityUserAgent(),
            httpMethod: apigw.AccessLogField.contextHttpMethod(),
            resourcePath: apigw.AccessLogField.contextResourcePath(),
            status: apigw.AccessLogField.contextStatus(),
            responseLength: apigw.AccessLogField.contextResponseLength(),
            integrationStatus: apigw.AccessLogField.contextIntegrationStatus(),
            errorMessage: apigw.AccessLogField.contextErrorMessage(),
          }),
        ),
      },
    });
    this.url = `https://${this.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${APPROVAL_STAGE}/`;

    this.validator = this.api.addRequestValidator('Validator', {
      validateRequestParameters: true,
      validateRequestBody: true,
    });

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'No WAF web ACL: the endpoint has two methods, stage throttling, and decides only for holders of an ' +
        'unused one-time link secret (256 random bits); a web ACL would add cost to every deployment for no ' +
        'further protection of the decision.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The one-time secret in the link is the capability: 256 random bits sent only in the approval e-mail, ' +
        'stored only as its SHA-256 digest, spent by the first decision, valid only while the approval waits, and ' +
        'checked against the execution history. Approvers receive it by e-mail and need no AWS identity; with an ' +
        'approvers list configured the page decides nothing and the CLI (IAM-authenticated) decides.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'No Cognito user pool: approvers are e-mail recipients, and the one-time secret in the link authorizes the one decision it belongs to.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        "API Gateway's account-level CloudWatch role uses the AWS managed policy that exists for exactly this purpose.",
    });
  }

  /** Routes GET and POST of the root to the approval Lambda. */
  public connect(handler: lambda.IFunction): void {
    // Test invocations from the console are not needed; they would add a second invoke permission.
    const integration = new apigw.LambdaIntegration(handler, { proxy: true, allowTestInvoke: false });
    this.api.root.addMethod('GET', integration, {
      authorizationType: apigw.AuthorizationType.NONE,
      requestValidator: this.validator,
      // A link without its secret never reaches the Lambda.
      requestParameters: { 'method.request.querystring.link': true },
    });
    this.api.root.addMethod('POST', integration, {
      authorizationType: apigw.AuthorizationType.NONE,
      requestValidator: this.validator,
    });
  }
}
