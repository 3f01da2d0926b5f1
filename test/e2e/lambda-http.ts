import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyResponse {
  readonly statusCode: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
}

export type ProxyHandler = (event: unknown) => Promise<ProxyResponse>;

export interface ServedHandler {
  /** `http://127.0.0.1:<port>/approval/`, like the stage URL of the deployed API. */
  readonly url: string;
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Serves a Lambda proxy handler on 127.0.0.1 the way API Gateway (REST API, proxy integration)
 * calls it: the query string decoded into `queryStringParameters` (a raw '+' becomes a space, the
 * harshest decoding a link can meet), headers, the body as text, and the caller in `requestContext`.
 */
export async function serveHandler(handler: ProxyHandler, stage = 'approval'): Promise<ServedHandler> {
  const server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const query = Object.fromEntries(url.searchParams.entries());
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, [value].flat().join(',')]),
      );
      const body = await readBody(request);
      const result = await handler({
        httpMethod: request.method ?? 'GET',
        path: url.pathname.replace(`/${stage}`, '') || '/',
        queryStringParameters: Object.keys(query).length > 0 ? query : null,
        headers,
        body: body.length > 0 ? body : null,
        isBase64Encoded: false,
        requestContext: {
          stage,
          path: url.pathname,
          identity: {
            sourceIp: request.socket.remoteAddress ?? null,
            userAgent: request.headers['user-agent'] ?? null,
          },
        },
      });
      response.writeHead(result.statusCode, { ...result.headers });
      response.end(result.body);
    })().catch((error: unknown) => {
      response.writeHead(502, { 'Content-Type': 'text/plain' });
      response.end(`adapter error: ${error instanceof Error ? error.name : 'unknown'}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${stage}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
