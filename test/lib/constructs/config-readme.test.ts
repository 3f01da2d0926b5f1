import { readFileSync } from 'node:fs';
import {
  CONFIG_DEFAULTS,
  executionDaysNeeded,
  MAX_EXECUTION_DAYS,
  MAX_TAG_KEY_LENGTH,
  MAX_TAG_VALUE_LENGTH,
  SWITCH_FIELDS,
  WHOLE_NUMBER_FIELDS,
  WHOLE_NUMBER_SETTINGS,
} from '../../../lambdas/contracts/config.js';
import { CONFIG_FIELDS } from '../../../lib/constructs/config.js';

// The README's "## Configuration" section is what a platform team reads before writing cdk.json:
// each range and default there is checked against the contract the synth validates with.

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

function configurationSection(): string {
  const start = README.indexOf('\n## Configuration\n');
  const end = README.indexOf('\n## ', start + 1);
  expect(start).toBeGreaterThan(-1);
  return README.slice(start, end === -1 ? undefined : end);
}

interface Row {
  readonly field: string;
  readonly default: string;
  readonly accepted: string;
}

function tableRows(): Row[] {
  return configurationSection()
    .split('\n')
    .filter((line) => /^\| `[A-Za-z]+` \|/.test(line))
    .map((line) => {
      const [field = '', defaultCell = '', accepted = ''] = line
        .slice(1, -1)
        .split(' | ')
        .map((cell) => cell.trim());
      return { field: field.replace(/`/g, ''), default: defaultCell, accepted };
    });
}

function row(field: string): Row {
  const found = tableRows().find((r) => r.field === field);
  if (!found) throw new Error(`README configuration table has no row for ${field}`);
  return found;
}

/** The fields whose sum must fit in the one year an execution may run. */
const IN_THE_SUM = ['observationDays', 'pendingWindowInDays', 'approvalTimeoutDays'];

describe('README configuration table', () => {
  it('lists exactly the fields the configuration accepts', () => {
    // Act
    const fields = tableRows().map((r) => r.field);

    // Assess
    expect([...fields].sort()).toEqual([...CONFIG_FIELDS].sort());
  });

  it.each(CONFIG_FIELDS)('gives the default of %s', (field) => {
    // Prepare
    const defaults: Readonly<Record<string, unknown>> = CONFIG_DEFAULTS;

    // Act
    const documented = row(field).default;

    // Assess
    expect(documented).toBe(field in defaults ? `\`${JSON.stringify(defaults[field])}\`` : '—');
  });

  it.each(WHOLE_NUMBER_FIELDS)('gives the range of %s that the validation accepts', (field) => {
    // Prepare
    const { min, max } = WHOLE_NUMBER_SETTINGS[field];

    // Act
    const accepted = row(field).accepted;

    // Assess
    expect(accepted.split(',')[0]).toBe(`${min}–${max}`);
    expect(accepted.includes('and the sum below')).toBe(IN_THE_SUM.includes(field));
  });

  it.each(SWITCH_FIELDS)('gives %s as true or false', (field) => {
    // Act
    const accepted = row(field).accepted;

    // Assess
    expect(accepted).toBe('`true`, `false`');
  });

  it('gives the tag condition the lengths KMS allows and requires both parts', () => {
    // Act
    const accepted = row('keyTagCondition').accepted;

    // Assess
    expect(accepted).toContain('both non-empty');
    expect(accepted).toContain(`key up to ${MAX_TAG_KEY_LENGTH} and not \`aws:\``);
    expect(accepted).toContain(`value up to ${MAX_TAG_VALUE_LENGTH}`);
  });

  it('states the one-year sum and the longest observation it leaves with the defaults', () => {
    // Prepare
    const text = configurationSection().replace(/\s+/g, ' ');
    const longest =
      MAX_EXECUTION_DAYS -
      executionDaysNeeded(0, CONFIG_DEFAULTS.pendingWindowInDays, CONFIG_DEFAULTS.approvalTimeoutDays);

    // Assess
    expect(executionDaysNeeded(10, 20, 30)).toBe(10 + 20 + 2 * 30 + 1);
    expect(text).toContain(
      `\`observationDays + pendingWindowInDays + 2 x approvalTimeoutDays + 1\` must stay within ${MAX_EXECUTION_DAYS} days`,
    );
    expect(text).toContain(`\`observationDays\` can be at most ${longest}.`);
  });
});
