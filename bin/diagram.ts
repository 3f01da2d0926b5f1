#!/usr/bin/env node
/**
 * Rewrites the README's workflow diagram from the state machine that `cdk synth` would deploy with
 * this repo's `cdk.json` configuration (`npm run diagram`), so the picture is the definition.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../lib/package-files.js';
import { defaultWorkflowDefinition, readmeWithDiagram } from '../lib/workflow-diagram.js';

const readmePath = path.join(PACKAGE_ROOT, 'README.md');
const readme = readFileSync(readmePath, 'utf8');
const updated = readmeWithDiagram(readme, await defaultWorkflowDefinition(PACKAGE_ROOT));
if (updated === readme) {
  console.log('README.md: the workflow diagram is up to date');
} else {
  writeFileSync(readmePath, updated);
  console.log('README.md: workflow diagram rewritten from the synthesized state machine');
}
