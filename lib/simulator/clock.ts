import { install } from '@sinonjs/fake-timers';

type InstalledClock = ReturnType<typeof install>;

/**
 * Virtual time for one simulation.
 *
 * Only `Date` is faked: handlers, the SDK's request signing and the emulated account all read the
 * virtual instant through `Date.now()`, while real timers and sockets keep working (the handlers
 * reach the emulator over real HTTP). Time only moves when the simulator moves it.
 */
export class VirtualClock {
  private readonly installed: InstalledClock;
  private uninstalled = false;

  private constructor(start: Date) {
    this.installed = install({ toFake: ['Date'], now: start.getTime() });
  }

  /** Fakes `Date` process-wide from now until `uninstall()`; callers uninstall in a `finally`. */
  static install(start: Date): VirtualClock {
    if (Number.isNaN(start.getTime())) {
      throw new RangeError('VirtualClock needs a valid start instant.');
    }
    return new VirtualClock(start);
  }

  now(): Date {
    return new Date(this.installed.now);
  }

  nowMs(): number {
    return this.installed.now;
  }

  /** Moves the clock forward to `target`; a target in the past leaves the clock where it is. */
  advanceTo(target: Date | number): void {
    const ms = typeof target === 'number' ? target : target.getTime();
    if (ms > this.installed.now) {
      this.installed.setSystemTime(ms);
    }
  }

  advanceBy(ms: number): void {
    this.advanceTo(this.installed.now + Math.max(0, ms));
  }

  uninstall(): void {
    if (!this.uninstalled) {
      this.uninstalled = true;
      this.installed.uninstall();
    }
  }
}
