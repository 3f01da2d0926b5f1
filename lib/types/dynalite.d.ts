// dynalite ships no type declarations; this is the part of its API the simulator uses.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** Milliseconds a CreateTable stays CREATING (dynalite's default 500). */
    readonly createTableMs?: number;
    readonly deleteTableMs?: number;
    readonly updateTableMs?: number;
    /** A directory for a LevelDB store; without it, tables live in memory. */
    readonly path?: string;
  }
  export default function dynalite(options?: DynaliteOptions): Server;
}
