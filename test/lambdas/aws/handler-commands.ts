import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NormalizedSchema } from '@smithy/core/schema';

const LAMBDAS = resolve(import.meta.dirname, '..', '..', '..', 'lambdas');
const SDK_IMPORT = /import\s*(?:type\s+)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g;

export interface SentCommand {
  readonly client: string;
  readonly command: string;
}

/** Every `...Command` the handlers' source imports from an SDK client, read from the files themselves. */
export function commandsOfTheHandlers(): SentCommand[] {
  const found = new Map<string, SentCommand>();
  const files = readdirSync(LAMBDAS, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  for (const file of files) {
    for (const [, names = '', client = ''] of readFileSync(join(LAMBDAS, file), 'utf8').matchAll(
      SDK_IMPORT,
    )) {
      for (const raw of names.split(',')) {
        const command =
          raw
            .trim()
            .split(/\s+as\s+/)[0]
            ?.trim() ?? '';
        if (command.endsWith('Command') && !command.startsWith('type ')) {
          found.set(`${client} ${command}`, { client, command });
        }
      }
    }
  }
  return [...found.values()];
}

type OperationSchema = readonly [number, string, string, unknown, unknown, unknown];

/** The input and output schemas the SDK serializes a command with (`Command.schema`). */
export async function schemasOf({
  client,
  command,
}: SentCommand): Promise<{ input: NormalizedSchema; output: NormalizedSchema }> {
  const module = (await import(client)) as Record<string, new (input: object) => { schema: OperationSchema }>;
  const Command = module[command];
  if (!Command) {
    throw new Error(`${client} exports no ${command}`);
  }
  const [, , , , input, output] = new Command({}).schema;
  return { input: NormalizedSchema.of(input as never), output: NormalizedSchema.of(output as never) };
}
