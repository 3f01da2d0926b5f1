import { compileFilterPattern } from '../../../../lib/simulator/emulator/filter-pattern.js';

const record = {
  eventName: 'Decrypt',
  errorCode: 'DisabledException',
  errorMessage: 'arn:aws:kms:us-east-1:111122223333:key/abc is disabled.',
  requestParameters: { keyId: 'alias/legacy' },
  resources: [{ ARN: 'arn:aws:kms:us-east-1:111122223333:key/abc' }, { ARN: 'arn:x' }],
  responseElements: null,
  readOnly: true,
  count: 5,
};

function matches(pattern: string, value: unknown = record): boolean {
  const message = JSON.stringify(value);
  return compileFilterPattern(pattern)({ message: () => message, json: () => JSON.parse(message) });
}

describe('compileFilterPattern', () => {
  it.each([
    ['', true],
    ['{ $.eventName = "Decrypt" }', true],
    ['{ $.eventName = Decrypt }', true],
    ['{ $.eventName = "decrypt" }', false],
    ['{ $.eventName != "Encrypt" }', true],
    ['{ $.missing != "Encrypt" }', false],
    ['{ $.requestParameters.keyId = "alias/legacy" }', true],
    ['{ $.requestParameters.keyId = "alias/leg" }', false],
    ['{ $.requestParameters.keyId = "alias/leg*" }', true],
    ['{ $.errorMessage = "*key/abc is disabled." }', true],
    ['{ $.resources[0].ARN = "arn:aws:kms:us-east-1:111122223333:key/abc" }', true],
    ['{ $.resources[1].ARN = "arn:aws:kms:us-east-1:111122223333:key/abc" }', false],
    ['{ $.resources[5].ARN = "x" }', false],
    ['{ $.eventName = "Encrypt" || $.errorCode = "DisabledException" }', true],
    ['{ $.eventName = "Encrypt" && $.errorCode = "DisabledException" }', false],
    ['{ ($.eventName = "Encrypt" || $.eventName = "Decrypt") && $.errorCode = "DisabledException" }', true],
    [
      '{ $.eventName = "Encrypt" || ($.eventName = "Decrypt" && $.errorCode = "KMSInvalidStateException") }',
      false,
    ],
    ['{ $.responseElements IS NULL }', true],
    ['{ $.readOnly IS TRUE }', true],
    ['{ $.errorCode NOT EXISTS }', false],
    ['{ $.count >= 5 && $.count < 6 }', true],
    ['DisabledException', true],
    ['DisabledException -Decrypt', false],
    ['?Nothing ?Decrypt', true],
  ])('%s -> %s', (pattern, expected) => {
    // Act
    const result = matches(pattern);

    // Assess
    expect(result).toBe(expected);
  });

  it('does not match a non-JSON message with a JSON pattern', () => {
    // Act
    const result = compileFilterPattern('{ $.a = "b" }')({ message: () => 'plain', json: () => undefined });

    // Assess
    expect(result).toBe(false);
  });

  it.each(['{ $.a = }', '{ $.a = "b"', '{ a = "b" }', '{ $.a = "b" } extra', '{ $.a ! "b" }'])(
    'rejects %s with InvalidParameterException',
    (pattern) => {
      // Act
      const compile = () => compileFilterPattern(pattern);

      // Assess
      expect(compile).toThrow(expect.objectContaining({ type: 'InvalidParameterException' }));
    },
  );
});
