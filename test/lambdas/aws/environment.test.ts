import { readEnvironment, settingsIn } from '../../../lambdas/aws/environment.js';
import { checkEnvironment, fastPathEnvironment } from '../../../lambdas/contracts/environment.js';
import { EnvironmentError, FastPathSettingsError } from '../../../lambdas/domain/errors.js';

describe('readEnvironment', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("reads the function's settings from the process environment", () => {
    // Prepare
    vi.stubEnv('KDG_SCHEDULE_GROUP', 'group');
    vi.stubEnv('KDG_SCHEDULER_ROLE_ARN', 'role');

    // Act
    const settings = readEnvironment(checkEnvironment);

    // Assess
    expect(settings).toEqual({ KDG_SCHEDULE_GROUP: 'group', KDG_SCHEDULER_ROLE_ARN: 'role' });
  });

  it('names every variable at fault in one error', () => {
    // Act
    const act = () =>
      readEnvironment(fastPathEnvironment, FastPathSettingsError, { KDG_STATE_MACHINE_ARN: 'x' });

    // Assess
    expect(act).toThrow(
      expect.objectContaining({
        name: 'FastPathSettingsError',
        variables: ['KDG_TOPIC_ARN', 'KDG_STATE_MACHINE_ARN'],
        message: expect.stringContaining('KDG_TOPIC_ARN and KDG_STATE_MACHINE_ARN'),
      }),
    );
  });

  it('fails with EnvironmentError unless told otherwise', () => {
    // Act
    const act = () => readEnvironment(checkEnvironment, undefined, {});

    // Assess
    expect(act).toThrow(EnvironmentError);
  });
});

describe('settingsIn', () => {
  it('answers null instead of failing', () => {
    // Act
    const settings = settingsIn(checkEnvironment, { KDG_SCHEDULE_GROUP: 'group' });

    // Assess
    expect(settings).toBeNull();
  });
});
