import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { synthesizeWorkflow } from '../../lib/simulator/definition.js';
import type { EmulatedAccount, Invocation } from '../../lib/simulator/emulator/account.js';
import type { SimulationReport } from '../../lib/simulator/result.js';
import { loadScenarioFile } from '../../lib/simulator/scenario.js';
import { simulate, stackConfigOf } from '../../lib/simulator/simulate.js';
import { resultSchemaErrors, scenarioSchemaErrors } from '../lib/simulator/schemas.js';

/** One scenario's run: its result and what the emulated account kept. */
export interface ScenarioRun {
  readonly result: SimulationReport;
  /** Every CloudTrail record the account logged. */
  readonly records: readonly { readonly eventName: string; readonly eventTime: string }[];
  /** Every Lambda invocation, with the log pages it searched. */
  readonly invocations: readonly Invocation[];
  /** The logical IDs of the template's functions, by handler folder. */
  readonly functionIds: ReadonlyMap<string, string>;
}

/**
 * Runs the scenarios of `directory` by name, each once however many tests read it, checking the file
 * and the result against the contracts.
 */
export function scenarioRuns(directory: string): (name: string) => Promise<ScenarioRun> {
  const runs = new Map<string, Promise<ScenarioRun>>();
  return (name) => {
    let pending = runs.get(name);
    if (!pending) {
      const file = join(directory, `${name}.json`);
      const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
      expect(scenarioSchemaErrors(data)).toEqual([]);
      const scenario = loadScenarioFile(file);
      let records: ScenarioRun['records'] = [];
      let invocations: ScenarioRun['invocations'] = [];
      pending = simulate(scenario, {
        inspect: (account: EmulatedAccount) => {
          records = account
            .records()
            .map((e) => ({ eventName: e.record.eventName, eventTime: e.record.eventTime }));
          invocations = account.invocations();
        },
      }).then(async (result) => {
        expect(resultSchemaErrors(result)).toEqual([]);
        const workflow = await synthesizeWorkflow(stackConfigOf(scenario), {
          account: scenario.account,
          region: scenario.region,
        });
        const functionIds = new Map(workflow.functions.map((fn) => [fn.handler, fn.logicalId]));
        return { result, records, invocations, functionIds };
      });
      runs.set(name, pending);
    }
    return pending;
  };
}

/**
 * The scenario files of `directory` whose names start with `prefix`, and those the test file
 * `testFile` names in quotes: a suite covers its folder when the two are the same.
 */
export function scenarioCoverage(
  directory: string,
  prefix: string,
  testFile: string,
): { readonly files: Set<string>; readonly covered: Set<string> } {
  const files = readdirSync(directory)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''));
  const pattern = new RegExp(`'(${prefix}[a-z0-9-]+)'`, 'g');
  const covered = [...readFileSync(testFile, 'utf8').matchAll(pattern)].map((m) => m[1] ?? '');
  return { files: new Set(files), covered: new Set(covered) };
}
