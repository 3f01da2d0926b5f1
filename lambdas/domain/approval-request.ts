/**
 * The approval e-mail: the text the workflow wrote (the assessment, or the observation report), the
 * earlier decision where there is one, and the link with its secret. Pure.
 */
import { LINK_PARAGRAPH } from './approval-page.js';
import { describeDecision } from './decider.js';
import type { ApprovalDecision } from './types.js';

export interface ApprovalMessage {
  readonly step: 'disable' | 'deletion';
  /** The assessment (disable) or the observation report (deletion). */
  readonly text: string;
  /** The link with its secret (approval-link.ts `approvalLinkUrl`). */
  readonly link: string;
  readonly expiresAt: Date;
  /** The disable decision, named in the deletion request. */
  readonly previousDecision?: ApprovalDecision | null | undefined;
}

/**
 * The e-mail's text. The link paragraph starts with LINK_PARAGRAPH, where the approval page cuts the
 * text it shows; what comes before it is the request, what comes after it is about the link.
 */
export function approvalMessage(message: ApprovalMessage): string {
  const parts = [message.text.trimEnd()];
  if (message.step === 'deletion' && message.previousDecision) {
    parts.push(`Disabling this key was approved by ${describeDecision(message.previousDecision)}.`);
  }
  const body = parts.join('\n\n');
  return (
    `${body}${LINK_PARAGRAPH} (the link itself decides nothing): ${message.link}\n\n` +
    `The link works for one decision and expires at ${message.expiresAt.toISOString()}. ` +
    'Whoever has it can decide: do not forward this e-mail.'
  );
}
