import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

/**
 * DynamoDB for the emulated account: a real DynamoDB implementation (dynalite, in memory, in this
 * process), not a hand-written one. The stack's own tables (the hold registry, the approval links)
 * rely on conditional writes as a compare-and-set between actors that may interleave; a
 * hand-written emulation could agree with the code's own misunderstanding of those semantics,
 * while dynalite answers like DynamoDB (ConditionalCheckFailedException, validation messages,
 * expression grammar), so the simulator exercises the same protocol AWS would.
 *
 * One instance per simulation: every run starts with the template's tables and nothing in them.
 */

/** A table as the synthesized template declares it (AWS::DynamoDB::Table). */
export interface TableSpec {
  readonly TableName: string;
  readonly KeySchema: readonly { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  readonly AttributeDefinitions: readonly { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
  readonly GlobalSecondaryIndexes?: readonly Record<string, unknown>[];
}

/** A forwarded answer, status, headers and body as dynalite sent them. */
export interface TableAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export class EmulatedDynamoDb {
  private constructor(
    private readonly server: Server,
    private readonly port: number,
  ) {}

  /** Starts an empty DynamoDB on 127.0.0.1 and creates `tables` in it. */
  static async start(tables: readonly TableSpec[]): Promise<EmulatedDynamoDb> {
    // Table creation is immediate: the simulator's virtual time cannot wait for real seconds.
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    server.unref();
    const db = new EmulatedDynamoDb(server, (server.address() as AddressInfo).port);
    for (const table of tables) {
      const created = await db.forward('CreateTable', {
        TableName: table.TableName,
        KeySchema: table.KeySchema,
        AttributeDefinitions: table.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
        ...(table.GlobalSecondaryIndexes ? { GlobalSecondaryIndexes: table.GlobalSecondaryIndexes } : {}),
      });
      if (created.status !== 200) {
        await db.close();
        throw new Error(`the emulated DynamoDB refused table ${table.TableName}: ${created.body}`);
      }
    }
    for (const table of tables) {
      await db.untilActive(table.TableName);
    }
    return db;
  }

  /**
   * Waits for a new table to leave CREATING: dynalite makes it ACTIVE on a timer (of 0 ms here), and
   * a request in process can come before that timer ran, where one over HTTP never did.
   */
  private async untilActive(tableName: string): Promise<void> {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const answer = await this.forward('DescribeTable', { TableName: tableName });
      const status = (JSON.parse(answer.body) as { Table?: { TableStatus?: string } }).Table?.TableStatus;
      if (status === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    throw new Error(`the emulated DynamoDB never made table ${tableName} ACTIVE`);
  }

  /** Where dynalite listens: a DynamoDB client may be pointed straight at it (the handlers' unit tests). */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * One DynamoDB JSON 1.0 request (`DynamoDB_20120810.<operation>`), answered by dynalite. Only the
   * target and body matter to it; the caller's signature was made in virtual time, so a fixed,
   * well-formed one is sent instead.
   */
  forward(operation: string, body: unknown): Promise<TableAnswer> {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    // dynalite's own request handler, given the request in process: a loopback HTTP round trip per
    // call cost as much again as dynalite's answer, for the same bytes in and out.
    const [handle] = this.server.listeners('request') as ((
      req: IncomingMessage,
      res: ServerResponse,
    ) => void)[];
    if (!handle) {
      return Promise.reject(new Error('the emulated DynamoDB has no request handler'));
    }
    return new Promise((resolve, reject) => {
      const request = Object.assign(new EventEmitter(), {
        method: 'POST',
        url: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'content-length': String(Buffer.byteLength(text)),
          'x-amz-target': `DynamoDB_20120810.${operation}`,
          authorization:
            'AWS4-HMAC-SHA256 Credential=emulator/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
          'x-amz-date': '20260101T000000Z',
        },
      });
      const headers: Record<string, string> = {};
      const response = {
        statusCode: 200,
        contentType: '',
        setHeader(name: string, value: unknown) {
          headers[name.toLowerCase()] = String(value);
        },
        getHeader(name: string) {
          return headers[name.toLowerCase()];
        },
        end(chunk?: string | Buffer) {
          const out = chunk === undefined ? '' : chunk.toString();
          resolve({ status: response.statusCode, headers, body: out });
        },
      };
      try {
        handle(request as unknown as IncomingMessage, response as unknown as ServerResponse);
        request.emit('data', Buffer.from(text, 'utf8'));
        request.emit('end');
      } catch (error) {
        reject(error);
      }
    });
  }

  /** Every table's name, through every page of ListTables. */
  async listTableNames(): Promise<string[]> {
    const names: string[] = [];
    let start: string | undefined;
    do {
      const answer = await this.forward(
        'ListTables',
        start === undefined ? {} : { ExclusiveStartTableName: start },
      );
      if (answer.status !== 200) {
        throw new Error(`the emulated DynamoDB refused ListTables: ${answer.body}`);
      }
      const page = JSON.parse(answer.body) as { TableNames?: string[]; LastEvaluatedTableName?: string };
      names.push(...(page.TableNames ?? []));
      start = page.LastEvaluatedTableName;
    } while (start !== undefined);
    return names;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections?.();
    });
  }
}
