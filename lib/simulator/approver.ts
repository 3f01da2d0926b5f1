/**
 * The person who answers the approval e-mails in a simulation. They read each approval e-mail the
 * request function published (the emulated SNS keeps it), open its link on the approval page (the
 * real approval handler, called as API Gateway calls it), and press the button the scenario's
 * `approvals` names: the same path as in AWS, secret, link store and history check included. A
 * `timeout` answer is a person who never opens the link.
 */
import { APPROVAL_REQUEST_KIND } from '../../lambdas/contracts/approval.js';
import { LINK_PARAMETER } from '../../lambdas/domain/approval-link.js';
import type { EmulatedAccount } from './emulator/account.js';
import type { PublishedMessage } from './emulator/sns-sfn.js';
import { invokeHandler, type TimelineEntry } from './engine.js';
import type { ApprovalAnswer } from './scenario.js';

/** Where the simulated approver's requests come from, as API Gateway would see them. */
export const APPROVER_SOURCE_IP = '203.0.113.10';
export const APPROVER_USER_AGENT = 'kms-deletion-guard simulator (approver)';
/** The name the approver types on the page. */
export const APPROVER_NAME = 'simulator';

export interface ApproverOptions {
  readonly account: EmulatedAccount;
  readonly region: string;
  readonly accountId: string;
  /** The scenario's answer for a step. */
  answerFor(step: string): ApprovalAnswer;
  /** How long after the e-mail the approver answers (ms). */
  delayMs(step: string): number;
  /** The subject key's state now, for the record of an answer that changed nothing. */
  keyState?(): string | null;
}

interface DueVisit {
  readonly at: number;
  readonly late: boolean;
  readonly step: string;
  readonly link: string;
  readonly answer: 'approve' | 'reject';
}

interface PageAnswer {
  readonly statusCode: number;
  readonly body: string;
}

/** The link of an approval e-mail (the page's URL with its secret), or null when it has none. */
export function approvalLinkIn(message: string): string | null {
  const match = new RegExp(`https://\\S+\\?${LINK_PARAMETER}=[A-Za-z0-9_-]+`).exec(message);
  return match ? match[0] : null;
}

/** The page's title, for a timeline entry of a visit that did not decide. */
function titleOf(body: string): string | null {
  return /<h1>([^<]*)<\/h1>/.exec(body)?.[1] ?? null;
}

export class SimulatedApprover {
  private seen = 0;
  private readonly due: DueVisit[] = [];
  private last: number | null = null;

  constructor(private readonly options: ApproverOptions) {}

  /** When the approver acts next (ms), or null when no e-mail waits for them. */
  nextDueAt(): number | null {
    this.read(this.options.account.sns.published());
    return this.due[0]?.at ?? null;
  }

  /** When the last visit comes (ms), made or still to make: the world runs at least until then. */
  lastDueAt(): number | null {
    this.read(this.options.account.sns.published());
    return this.last;
  }

  /**
   * Answers every e-mail due by `at` on the approval page. A decision shows on the approval state's
   * own line of the timeline (its answer); a visit that decided nothing gets a line of its own.
   */
  async actDue(at: number): Promise<TimelineEntry[]> {
    const entries: TimelineEntry[] = [];
    while (this.due[0] && this.due[0].at <= at) {
      const visit = this.due.shift() as DueVisit;
      const entry = await this.options.account.withoutFaults(() => this.visit(visit));
      // A decision at once shows on the approval state's own line (its answer); an answer that took
      // its time, or decided nothing, gets a line of its own.
      if (visit.late || entry.detail.status !== 200) entries.push(entry);
    }
    return entries;
  }

  private read(messages: readonly PublishedMessage[]): void {
    for (const message of messages.slice(this.seen)) {
      this.seen += 1;
      if (message.attributes.kind !== APPROVAL_REQUEST_KIND) continue;
      const step = message.attributes.step ?? '';
      const answer = this.options.answerFor(step);
      const link = approvalLinkIn(message.message);
      if (answer === 'timeout' || link === null) continue;
      const at = Date.parse(message.at) + this.options.delayMs(step);
      this.due.push({ at, late: this.options.delayMs(step) > 0, step, link, answer });
      this.last = Math.max(this.last ?? at, at);
      this.due.sort((a, b) => a.at - b.at);
    }
  }

  private async visit(visit: DueVisit): Promise<TimelineEntry> {
    const at = new Date().toISOString();
    const base = { at, state: 'ApprovalAnswer', type: 'Approver' };
    const url = new URL(visit.link);
    const shown = await this.request(url, 'GET', null);
    if (shown.statusCode !== 200) {
      return { ...base, detail: this.refused(visit, shown) };
    }
    const form = new URLSearchParams({
      link: url.searchParams.get(LINK_PARAMETER) ?? '',
      decision: visit.answer,
      by: APPROVER_NAME,
      comment: `${visit.answer === 'approve' ? 'approved' : 'rejected'} in simulation`,
    });
    const decided = await this.request(url, 'POST', form.toString());
    return {
      ...base,
      detail:
        decided.statusCode === 200
          ? { step: visit.step, answer: visit.answer, status: 200, result: 'accepted' }
          : this.refused(visit, decided),
    };
  }

  /** A visit the page turned away: nothing changed, and the record says what the page said. */
  private refused(visit: DueVisit, page: PageAnswer): Record<string, unknown> {
    const expired = page.statusCode === 410;
    return {
      step: visit.step,
      answer: visit.answer,
      status: page.statusCode,
      page: titleOf(page.body),
      result: expired ? 'expired' : 'refused',
      changed: false,
      keyState: this.options.keyState?.() ?? null,
      note: expired
        ? 'approval answer after expiry: nothing changed'
        : 'approval answer the page did not take: nothing changed',
    };
  }

  /** One request to the approval page, as API Gateway's proxy integration hands it to the Lambda. */
  private async request(url: URL, method: 'GET' | 'POST', body: string | null): Promise<PageAnswer> {
    const headers: Record<string, string> = {
      Host: url.host,
      'User-Agent': APPROVER_USER_AGENT,
      ...(method === 'POST'
        ? {
            'Content-Type': 'application/x-www-form-urlencoded',
            Origin: url.origin,
            'Sec-Fetch-Site': 'same-origin',
          }
        : { 'Sec-Fetch-Site': 'none' }),
    };
    const result = (await invokeHandler(
      'approval',
      {
        httpMethod: method,
        path: '/',
        queryStringParameters: method === 'GET' ? Object.fromEntries(url.searchParams) : null,
        headers,
        body,
        isBase64Encoded: false,
        requestContext: {
          domainName: url.host,
          identity: { sourceIp: APPROVER_SOURCE_IP, userAgent: APPROVER_USER_AGENT },
        },
      },
      this.options.region,
      this.options.accountId,
    )) as PageAnswer;
    return result;
  }
}
