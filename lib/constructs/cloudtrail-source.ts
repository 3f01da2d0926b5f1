import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { retainedLogGroup } from './retained-log-group.js';

export interface CloudTrailSourceProps {
  /** An existing log group that receives the account's CloudTrail events. */
  readonly logGroupName?: string;
  /**
   * Create a multi-Region trail (with its bucket) that delivers into a new log group.
   * @default false
   */
  readonly createTrail?: boolean;
}

/**
 * Where the workflow reads CloudTrail records from: an existing log group, or a new trail.
 * A trail that excludes KMS events or logs write events only would make a used key look quiet,
 * so the created trail logs all management events, KMS included.
 */
export class CloudTrailSource extends Construct {
  public readonly logGroupName: string;
  public readonly logGroupArn: string;

  constructor(scope: Construct, id: string, props: CloudTrailSourceProps) {
    super(scope, id);
    if (props.createTrail) {
      const logGroup = retainedLogGroup(this, 'TrailLogs');
      const accessLogs = new s3.Bucket(this, 'TrailAccessLogs', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      const bucket = new s3.Bucket(this, 'TrailBucket', {
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        versioned: true,
        serverAccessLogsBucket: accessLogs,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      new cloudtrail.Trail(this, 'Trail', {
        bucket,
        isMultiRegionTrail: true,
        includeGlobalServiceEvents: true,
        enableFileValidation: true,
        sendToCloudWatchLogs: true,
        cloudWatchLogGroup: logGroup,
        managementEvents: cloudtrail.ReadWriteType.ALL,
      });
      this.logGroupName = logGroup.logGroupName;
      this.logGroupArn = logGroup.logGroupArn;
    } else if (props.logGroupName) {
      this.logGroupName = props.logGroupName;
      this.logGroupArn = Stack.of(this).formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: props.logGroupName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    } else {
      throw new Error('CloudTrailSource needs logGroupName or createTrail: true.');
    }
  }
}
