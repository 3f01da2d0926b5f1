import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import scenarioSchema from '../../../lib/simulator/contracts/scenario.schema.json' with { type: 'json' };
import resultSchema from '../../../lib/simulator/contracts/simulation-result.schema.json' with {
  type: 'json',
};

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats.default(ajv);
const validateResult = ajv.compile(resultSchema);
const validateScenario = ajv.compile(scenarioSchema);

/** The schema errors of a simulation result (empty when it matches the contract). */
export function resultSchemaErrors(value: unknown): string[] {
  return validateResult(value)
    ? []
    : (validateResult.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

export function scenarioSchemaErrors(value: unknown): string[] {
  return validateScenario(value)
    ? []
    : (validateScenario.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
