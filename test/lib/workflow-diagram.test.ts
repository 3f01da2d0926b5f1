import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AslDefinition } from '../../lib/simulator/definition.js';
import {
  DiagramMarkersError,
  defaultWorkflowDefinition,
  diagramBlock,
  readmeDiagramBlock,
  readmeWithDiagram,
  workflowMermaid,
} from '../../lib/workflow-diagram.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

const TINY: AslDefinition = {
  StartAt: 'Check',
  States: {
    Check: {
      Type: 'Task',
      Next: 'Verdict',
      Catch: [
        { ErrorEquals: ['States.Timeout'], Next: 'Expired' },
        { ErrorEquals: ['States.ALL'], Next: 'Broken' },
      ],
    },
    Verdict: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.watch.value.broke', BooleanEquals: true, Next: 'Broken' },
        {
          And: [
            { Variable: '$.a.outcome', StringEquals: 'ROLLED_BACK' },
            { Variable: '$.a.notified', IsPresent: true },
          ],
          Next: 'Done',
        },
      ],
      Default: 'Wait "here"',
    },
    'Wait "here"': { Type: 'Wait', Seconds: 5, Next: 'Done' },
    Expired: { Type: 'Fail', Error: 'APPROVAL_EXPIRED' },
    Broken: { Type: 'Fail', Error: 'ROLLED_BACK' },
    Done: { Type: 'Succeed' },
  },
};

describe('workflowMermaid', () => {
  it('draws every state with its kind and every transition, Catch routes dotted', () => {
    // Act
    const mermaid = workflowMermaid(TINY);

    // Assess
    expect(mermaid.split('\n')).toEqual([
      'flowchart TD',
      '  start((start)) --> Check',
      '  Check["Check"]',
      '  Verdict{"Verdict"}',
      '  Wait__here_[/"Wait #quot;here#quot;"/]',
      '  Expired[["Expired: APPROVAL_EXPIRED"]]',
      '  Broken[["Broken: ROLLED_BACK"]]',
      '  Done(("Done"))',
      '  Check --> Verdict',
      '  Check -.->|"timeout"| Expired',
      '  Check -.->|"any error"| Broken',
      '  Verdict -->|"broke"| Broken',
      '  Verdict -->|"a.outcome = ROLLED_BACK and notified present"| Done',
      '  Verdict -->|otherwise| Wait__here_',
      '  Wait__here_ --> Done',
    ]);
  });
});

describe('readmeWithDiagram', () => {
  it('replaces only the block between the markers', () => {
    // Prepare
    const readme = `# Title\n\n${diagramBlock('flowchart TD\n  old --> stale')}\n\nAfter.\n`;

    // Act
    const updated = readmeWithDiagram(readme, TINY);

    // Assess
    expect(updated.startsWith('# Title\n\n')).toBe(true);
    expect(updated.endsWith('\n\nAfter.\n')).toBe(true);
    expect(readmeDiagramBlock(updated)).toBe(diagramBlock(workflowMermaid(TINY)));
  });

  it('names the markers when the README has none', () => {
    // Act / Assess
    expect(() => readmeWithDiagram('# No diagram here\n', TINY)).toThrow(DiagramMarkersError);
  });
});

describe('the README diagram', () => {
  it('is the diagram of the state machine the app synthesizes', async () => {
    // Prepare
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

    // Act
    const definition = await defaultWorkflowDefinition(ROOT);

    // Assess: a mismatch means the workflow changed; run `npm run diagram`.
    expect(readmeDiagramBlock(readme)).toBe(diagramBlock(workflowMermaid(definition)));
    for (const state of Object.keys(definition.States)) expect(readmeDiagramBlock(readme)).toContain(state);
  });
});
