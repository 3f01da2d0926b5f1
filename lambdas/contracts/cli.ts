/**
 * The command that e-mails, refusals and errors tell a person to run. The npm package
 * `kms-deletion-guard` installs a `bin` of the same name (package.json, checked by a test); `npx`
 * runs it in a project where the package is installed. A message that names a command takes it from
 * here, so the name cannot differ from one message to the next or from the package.
 */

/** The npm package and the command it installs. */
export const CLI_PACKAGE = 'kms-deletion-guard';

/** `npx kms-deletion-guard <args>`: a CLI command as a message names it. */
export function cliCommand(args: string): string {
  return `npx ${CLI_PACKAGE} ${args}`;
}

/** Where a command from cliCommand runs, for the reader who has not installed the package yet. */
export const CLI_WHERE = `in a project where the package is installed: npm install ${CLI_PACKAGE}`;

/** Where an execution stands without the package: the console, or the AWS CLI. */
export function executionLookup(executionArn: string): string {
  return (
    "the execution's page in the Step Functions console, or " +
    `aws stepfunctions describe-execution --execution-arn ${executionArn}`
  );
}
