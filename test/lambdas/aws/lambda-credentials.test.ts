import { defaultProvider } from '../../../lambdas/aws/lambda-credentials.js';
import { LambdaCredentialsError } from '../../../lambdas/domain/errors.js';

const NAMES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_CREDENTIAL_SCOPE',
  'AWS_ACCOUNT_ID',
] as const;

describe('defaultProvider (the bundled stand-in for the SDK credential chain)', () => {
  const saved = new Map<string, string | undefined>();

  beforeEach(() => {
    for (const name of NAMES) {
      saved.set(name, process.env[name]);
      delete process.env[name];
    }
  });

  afterEach(() => {
    for (const name of NAMES) {
      const value = saved.get(name);
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
  });

  it('answers the role credentials Lambda puts in the environment', async () => {
    // Prepare
    process.env.AWS_ACCESS_KEY_ID = 'ASIAEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
    process.env.AWS_SESSION_TOKEN = 'token';
    process.env.AWS_CREDENTIAL_EXPIRATION = '2026-01-01T12:00:00Z';

    // Act
    const credentials = await defaultProvider({})();

    // Assess
    expect(credentials).toEqual({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      expiration: new Date('2026-01-01T12:00:00Z'),
    });
  });

  it('reads the environment at each call, not when the provider is made', async () => {
    // Prepare
    const provider = defaultProvider();
    process.env.AWS_ACCESS_KEY_ID = 'AKIALATER';
    process.env.AWS_SECRET_ACCESS_KEY = 'later';

    // Act
    const credentials = await provider();

    // Assess
    expect(credentials.accessKeyId).toBe('AKIALATER');
    expect(credentials.sessionToken).toBeUndefined();
  });

  it('refuses to sign anything without credentials in the environment', async () => {
    // Prepare
    process.env.AWS_ACCESS_KEY_ID = 'AKIAONLYHALF';

    // Act
    const attempt = defaultProvider()();

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(LambdaCredentialsError);
    await expect(attempt).rejects.toMatchObject({ name: 'LambdaCredentialsError' });
  });
});
