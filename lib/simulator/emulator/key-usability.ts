/**
 * When each KMS key of the emulated account could be used for cryptography (state `Enabled`) and
 * when it could not (`Disabled`, pending deletion, deleted), as the calls that changed it left it.
 * Services that encrypt data at rest react to that: CloudWatch Logs cannot store what arrives
 * while its group's key is unusable, DynamoDB marks a table's key inaccessible.
 */
export class KeyUsabilityHistory {
  private readonly changes = new Map<string, { at: number; usable: boolean }[]>();

  /** The state a key had before anything happened in the simulation. */
  start(keyArn: string, usable: boolean): void {
    this.changes.set(keyArn, [{ at: Number.NEGATIVE_INFINITY, usable }]);
  }

  /** The key's usability after a call at `at` (recorded only when it changed); calls come in time order. */
  observe(keyArn: string, at: number, usable: boolean): void {
    const changes = this.changes.get(keyArn);
    if (!changes || this.usableAt(keyArn, at) === usable) {
      return;
    }
    const later = changes.findIndex((change) => change.at > at);
    changes.splice(later < 0 ? changes.length : later, 0, { at, usable });
  }

  /** Whether the key was usable at `at` (a key the history does not know counts as usable). */
  usableAt(keyArn: string, at: number): boolean {
    let usable = true;
    for (const change of this.changes.get(keyArn) ?? []) {
      if (change.at > at) break;
      usable = change.usable;
    }
    return usable;
  }

  /**
   * The stretches up to `until` in which the key was unusable, oldest first (`from` is -Infinity
   * for a key unusable since before the simulation; the last `to` is `until` while it still is).
   */
  unusableStretches(keyArn: string, until: number): { from: number; to: number }[] {
    const stretches: { from: number; to: number }[] = [];
    let from: number | null = null;
    for (const change of this.changes.get(keyArn) ?? []) {
      if (change.at > until) break;
      if (!change.usable && from === null) {
        from = change.at;
      } else if (change.usable && from !== null) {
        stretches.push({ from, to: change.at });
        from = null;
      }
    }
    if (from !== null) {
      stretches.push({ from, to: until });
    }
    return stretches;
  }
}
