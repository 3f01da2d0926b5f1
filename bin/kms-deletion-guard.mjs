#!/usr/bin/env node
// The installed entry point: the CLI and the simulator run the TypeScript sources directly (the
// simulator imports the real Lambda handlers), so tsx's loader is registered before anything else.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
