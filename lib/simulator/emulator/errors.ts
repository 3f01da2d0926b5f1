/**
 * Errors the emulated services answer with, in the AWS JSON 1.1 shape: `__type` names the error
 * (the SDK turns it into the thrown error's `name`), `message` is the text AWS would send.
 */
export class AwsError extends Error {
  /** The AWS error code (`__type`), e.g. `DisabledException`. */
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = 'AwsError';
    this.type = type;
    this.status = status;
  }

  toBody(): { __type: string; message: string } {
    return { __type: this.type, message: this.message };
  }
}

/**
 * HTTP status of the service-side errors; the SDK retries 5xx and throttling, so a wrong status
 * would change how many attempts a fault absorbs.
 */
const STATUS: Readonly<Record<string, number>> = {
  KMSInternalException: 500,
  DependencyTimeoutException: 500,
  InternalFailure: 500,
  ServiceException: 500,
  ServiceUnavailableException: 503,
};

const FAULT_MESSAGES: Readonly<Record<string, string>> = {
  ThrottlingException: 'Rate exceeded',
  KMSInternalException: 'An internal error occurred. Try again later.',
  DependencyTimeoutException:
    'The system timed out while trying to fulfill the request. You can retry the request.',
  InternalFailure: 'An internal error occurred.',
  ServiceException: 'An internal error occurred.',
  ServiceUnavailableException: 'The service is unavailable. Try again later.',
  ResourceNotFoundException: 'The specified log group does not exist.',
  LimitExceededException: 'Resource limit exceeded.',
};

/** An injected fault as the service would phrase it. */
export function faultError(type: string, operation: string, principalArn: string, service: string): AwsError {
  if (type === 'AccessDeniedException') {
    return new AwsError(
      type,
      `User: ${principalArn} is not authorized to perform: ${service}:${operation} because no identity-based policy allows the ${service}:${operation} action`,
    );
  }
  return new AwsError(
    type,
    FAULT_MESSAGES[type] ?? `${type} (injected by the simulator)`,
    STATUS[type] ?? 400,
  );
}

export function validationError(message: string): AwsError {
  return new AwsError('ValidationException', message);
}
