import { readFileSync } from 'node:fs';
import { CLI_PACKAGE, CLI_WHERE, cliCommand, executionLookup } from '../../../lambdas/contracts/cli.js';

const EXECUTION = 'arn:aws:states:us-east-1:111122223333:execution:guard:run-1';

describe('the CLI a message names', () => {
  it('is the command the npm package installs', () => {
    // Prepare
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      readonly name: string;
      readonly bin: Readonly<Record<string, string>>;
    };

    // Assess
    expect(pkg.name).toBe(CLI_PACKAGE);
    expect(Object.keys(pkg.bin)).toContain(CLI_PACKAGE);
  });

  it('runs through npx, and says where: a project that installed the package', () => {
    // Act
    const command = cliCommand(`approve ${EXECUTION}`);

    // Assess
    expect(command).toBe(`npx kms-deletion-guard approve ${EXECUTION}`);
    expect(CLI_WHERE).toContain('npm install kms-deletion-guard');
  });

  it('offers the console and the AWS CLI for following an execution without the package', () => {
    // Act
    const lookup = executionLookup(EXECUTION);

    // Assess
    expect(lookup).toContain('Step Functions console');
    expect(lookup).toContain(`aws stepfunctions describe-execution --execution-arn ${EXECUTION}`);
  });
});
