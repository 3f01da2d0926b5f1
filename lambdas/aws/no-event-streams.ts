import { EventStreamsNotBundledError } from '../domain/errors.js';

/**
 * What the deployed Lambdas get for `@smithy/core/event-streams`. The bundler puts this module in
 * its place (lib/constructs/guard-function.ts); tests and the simulator run the SDK's own.
 *
 * Event streams (the binary framing of StartLiveTail and the like) are ~15 KB of every bundle
 * because the SDK's protocol base class imports them for any client, and the CloudWatch Logs client
 * builds a marshaller when it is created. The SDK reaches that code only for an operation whose
 * input or output schema has an event-stream member, and none of the commands the handlers send
 * has one (test/lambdas/aws/no-event-streams.test.ts checks each of them). Should one ever be
 * added, its first call fails here with a named error instead of misbehaving.
 */

/** The part of the SDK's event-stream marshaller its clients call (`EventStreamMarshaller` of @smithy/types). */
export interface AbsentEventStreamMarshaller {
  serialize(input: unknown, serializer: unknown): never;
  deserialize(body: unknown, deserializer: unknown): never;
}

const absentMarshaller: AbsentEventStreamMarshaller = {
  serialize() {
    throw new EventStreamsNotBundledError();
  },
  deserialize() {
    throw new EventStreamsNotBundledError();
  },
};

/**
 * Called when a client is created (the Logs client resolves its marshaller eagerly), so it must not
 * throw: the marshaller it answers throws at first use instead.
 */
export function eventStreamSerdeProvider(_options?: unknown): AbsentEventStreamMarshaller {
  return absentMarshaller;
}

/** The SDK's own resolver, unchanged: the client config gets the marshaller its provider makes. */
export function resolveEventStreamSerdeConfig<
  T extends { readonly eventStreamSerdeProvider: (input: T) => unknown },
>(input: T): T & { eventStreamMarshaller: ReturnType<T['eventStreamSerdeProvider']> } {
  const eventStreamMarshaller = input.eventStreamSerdeProvider(input) as ReturnType<
    T['eventStreamSerdeProvider']
  >;
  return Object.assign(input, { eventStreamMarshaller });
}

/** Made by the protocol only when an operation has an event stream, just before it would use it. */
export class EventStreamSerde {
  constructor(_options?: unknown) {
    throw new EventStreamsNotBundledError();
  }
}
