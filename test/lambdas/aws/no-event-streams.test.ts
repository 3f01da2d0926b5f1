import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { NormalizedSchema } from '@smithy/core/schema';
import {
  EventStreamSerde,
  EventStreamsNotBundledError,
  eventStreamSerdeProvider,
  resolveEventStreamSerdeConfig,
} from '../../../lambdas/aws/no-event-streams.js';

const LAMBDAS = resolve(import.meta.dirname, '..', '..', '..', 'lambdas');
const SDK_IMPORT = /import\s*(?:type\s+)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g;

interface SentCommand {
  readonly client: string;
  readonly command: string;
}

/** Every `...Command` the handlers' source imports from an SDK client, read from the files themselves. */
function commandsOfTheHandlers(): SentCommand[] {
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

/** What the SDK itself asks before it loads event-stream code (Command.resolveMiddlewareWithContext). */
async function hasEventStream({ client, command }: SentCommand): Promise<boolean> {
  const module = (await import(client)) as Record<string, new (input: object) => { schema: OperationSchema }>;
  const Command = module[command];
  if (!Command) {
    throw new Error(`${client} exports no ${command}`);
  }
  const [, , , , input, output] = new Command({}).schema;
  return Boolean(
    NormalizedSchema.of(input as never).getEventStreamMember() ||
      NormalizedSchema.of(output as never).getEventStreamMember(),
  );
}

describe('no-event-streams (what the bundles get for @smithy/core/event-streams)', () => {
  it('is never reached: no command the handlers send has an event stream', async () => {
    // Prepare
    const commands = commandsOfTheHandlers();

    // Act
    const withStreams: string[] = [];
    for (const command of commands) {
      if (await hasEventStream(command)) {
        withStreams.push(command.command);
      }
    }

    // Assess
    expect(commands.map((c) => c.command)).toEqual(
      expect.arrayContaining([
        'DescribeKeyCommand',
        'FilterLogEventsCommand',
        'DescribeTrailsCommand',
        'PublishCommand',
        'SendTaskSuccessCommand',
      ]),
    );
    expect(withStreams, 'these need the event-stream alias removed from guard-function.ts').toEqual([]);
  });

  it('tells an operation with an event stream apart (the check above can fail)', async () => {
    // Act
    const liveTail = await hasEventStream({
      client: '@aws-sdk/client-cloudwatch-logs',
      command: 'StartLiveTailCommand',
    });

    // Assess
    expect(liveTail).toBe(true);
  });

  it('lets a client be created, and fails with a named error at the first event-stream use', () => {
    // Prepare
    const config = resolveEventStreamSerdeConfig({ region: 'eu-west-1', eventStreamSerdeProvider });

    // Act
    const serialize = () => config.eventStreamMarshaller.serialize({}, {});
    const deserialize = () => config.eventStreamMarshaller.deserialize({}, {});
    const serde = () => new EventStreamSerde({ marshaller: config.eventStreamMarshaller });

    // Assess
    expect(config.eventStreamMarshaller).toBe(eventStreamSerdeProvider());
    expect(config.region).toBe('eu-west-1');
    for (const use of [serialize, deserialize, serde]) {
      expect(use).toThrow(EventStreamsNotBundledError);
      expect(use).toThrow(/leaves out @smithy\/core\/event-streams/);
    }
    expect(new EventStreamsNotBundledError().name).toBe('EventStreamsNotBundledError');
  });
});
