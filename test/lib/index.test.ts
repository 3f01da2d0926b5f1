import { Construct } from 'constructs';
import * as library from '../../lib/index.js';

describe('lib/index', () => {
  it('exports constructs only (their props are types)', () => {
    // Act
    const exported = Object.entries(library);

    // Assess
    expect(exported.map(([name]) => name)).toContain('KeyDeletionGuard');
    for (const [name, value] of exported) {
      expect(typeof value === 'function' && value.prototype instanceof Construct, name).toBe(true);
    }
  });
});
