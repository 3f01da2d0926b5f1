import {
  EventStreamSerde,
  eventStreamSerdeProvider,
  resolveEventStreamSerdeConfig,
} from '../../../lambdas/aws/no-event-streams.js';
import { EventStreamsNotBundledError } from '../../../lambdas/domain/errors.js';
import { commandsOfTheHandlers, type SentCommand, schemasOf } from './handler-commands.js';

/** What the SDK itself asks before it loads event-stream code (Command.resolveMiddlewareWithContext). */
async function hasEventStream(command: SentCommand): Promise<boolean> {
  const { input, output } = await schemasOf(command);
  return Boolean(input.getEventStreamMember() || output.getEventStreamMember());
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
