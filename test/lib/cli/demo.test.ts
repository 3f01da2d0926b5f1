import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../bin/cli.js';
import { BUNDLED_SCENARIOS } from '../../../lib/cli/demo.js';
import { bufferedIo } from '../../../lib/cli/io.js';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kdg-demo-'));
  copyFileSync(join(BUNDLED_SCENARIOS, 'disable-rejected.json'), join(dir, 'a-rejected.json'));
  copyFileSync(join(BUNDLED_SCENARIOS, 'aws-managed-refused.json'), join(dir, 'b-refused.json'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('demo command', () => {
  it('prints a timeline per scenario and a summary table, exit 0', async () => {
    // Prepare
    const io = bufferedIo();

    // Act
    const code = await main(['demo', '--dir', dir], io);

    // Assess
    expect(code).toBe(0);
    const out = io.out();
    expect(out.match(/^Scenario: /gm)).toHaveLength(2);
    expect(out).toMatch(/^scenario\s+outcome\s+cause/m);
    expect(out).toMatch(/^a-rejected\s+REJECTED/m);
    expect(out).toMatch(/^b-refused\s+REFUSED\s+AWS_MANAGED_KEY/m);
  });

  it('lists a scenario that cannot run as ERROR and exits 1', async () => {
    // Prepare
    writeFileSync(join(dir, 'c-broken.json'), '{}');
    const io = bufferedIo();

    // Act
    const code = await main(['demo', '--dir', dir], io);

    // Assess
    expect(code).toBe(1);
    expect(io.out()).toMatch(/^c-broken\s+ERROR\s+start is required/m);
    expect(io.err()).toContain('c-broken.json: start is required');
  });
});
