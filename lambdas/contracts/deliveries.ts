import * as z from 'zod/mini';

/**
 * What CloudWatch Logs sends the subscription's receiver (lambdas/deliveries/): an asynchronous
 * invocation whose `awslogs.data` is a Base64-encoded gzip archive of one JSON document, the log
 * events of one log stream that matched the filter. `CONTROL_MESSAGE` documents are CloudWatch Logs
 * checking that the destination is reachable; they carry no log events of the group.
 */

export const subscriptionEventSchema = /* @__PURE__ */ (() =>
  z.object({ awslogs: z.object({ data: z.string().check(z.minLength(1)) }) }))();

export const subscriptionMessageSchema = /* @__PURE__ */ (() =>
  z.looseObject({
    messageType: z.enum(['DATA_MESSAGE', 'CONTROL_MESSAGE']),
    owner: z.string(),
    logGroup: z.string(),
    logStream: z.string(),
    subscriptionFilters: z.array(z.string()),
    logEvents: z.array(
      z.looseObject({
        id: z.string(),
        timestamp: z.number(),
        message: z.string(),
      }),
    ),
  }))();

export type SubscriptionEvent = z.output<typeof subscriptionEventSchema>;
export type SubscriptionMessage = z.output<typeof subscriptionMessageSchema>;
