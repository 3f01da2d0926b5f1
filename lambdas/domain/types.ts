/**
 * The shapes that travel between the state machine and its handlers.
 *
 * These are contracts: the workflow definition (lib/constructs/workflow.ts) writes and reads
 * them by JSONPath, the handlers produce them, the simulator and the CLI read them. Times are
 * ISO-8601 strings (UTC, `Z`) because Step Functions `TimestampPath` needs that form. The names and
 * schemas the constructs share with the handlers live in lambdas/contracts; they are re-exported
 * here for the modules that speak of the shapes below.
 */
import type { GuardConfig } from '../contracts/config.js';
import type { Outcome, RefusalCause } from '../contracts/outcomes.js';
import type { InventoryReport } from './inventory.js';
import type { SearchResume } from './search-resume.js';
import type { UsageCadence } from './usage-cadence.js';

export type { GuardConfig } from '../contracts/config.js';
export {
  ABORT_CAUSES,
  type AbortCause,
  OUTCOMES,
  type Outcome,
  REFUSAL_CAUSES,
  type RefusalCause,
} from '../contracts/outcomes.js';
export { type HoldStatus, TAGS } from '../contracts/tags.js';
export { WORKFLOW_ERRORS } from '../contracts/workflow-errors.js';

/** The three TrackingStartDate cases of the GetKeyLastUsage API reference. */
export type UsageClassification = 'USED' | 'NEVER_USED' | 'UNKNOWN_BEFORE_TRACKING';

/** Execution input after validation: the stack defaults applied to what the input left out. */
export interface ExecutionRequest {
  readonly keyId: string;
  readonly observationDays: number;
  readonly pendingWindowInDays: number;
  readonly requestedBy: string;
  readonly reason: string;
  readonly allowExportedPublicKey: boolean;
  /**
   * Crypto-shredding on purpose: the ARNs of the resources encrypted under the key whose data the
   * requester accepts to lose. The key proceeds only when the inventory finds exactly these.
   */
  readonly acceptDataLoss?: readonly string[] | undefined;
}

/** What the workflow knows about the key (from DescribeKey, ListAliases, ListResourceTags). */
export interface KeyFacts {
  readonly keyId: string;
  readonly keyArn: string;
  readonly account: string;
  readonly region: string;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly keyState: string;
  readonly keyManager: 'CUSTOMER' | 'AWS';
  readonly keySpec: string;
  readonly keyUsage: string;
  readonly creationDate: string;
  readonly multiRegion: boolean;
  readonly multiRegionRole?: 'PRIMARY' | 'REPLICA' | undefined;
  readonly replicaCount: number;
  readonly tags: Readonly<Record<string, string>>;
}

export interface LastUsage {
  readonly operation: string;
  readonly timestamp: string;
  readonly cloudTrailEventId?: string | undefined;
  readonly kmsRequestId?: string | undefined;
}

/** The usage history, classified exactly as the GetKeyLastUsage API reference words it. */
export interface UsageAssessment {
  readonly classification: UsageClassification;
  readonly trackingStartDate: string;
  readonly keyCreationDate: string;
  readonly lastUsage: LastUsage | null;
  /** Only for UNKNOWN_BEFORE_TRACKING: what the CloudTrail log group showed before tracking began. */
  readonly historySearch?: HistorySearch | undefined;
  /**
   * For a key with known uses (USED, or a use found before tracking): how far apart they are, from
   * GetKeyLastUsage and the log group, measured against the observation.
   */
  readonly cadence?: UsageCadence | undefined;
  /** One sentence, in the API reference's words, for e-mails and logs. */
  readonly explanation: string;
}

export interface HistorySearch {
  /** Earliest instant the log group could still show (retention). */
  readonly searchedFrom: string;
  readonly searchedTo: string;
  readonly lastUseFound: {
    readonly eventName: string;
    readonly eventTime: string;
    readonly eventID: string;
  } | null;
  readonly publicKeyDownloaded: boolean;
}

/** The per-execution plan: configuration resolved with the input's overrides, in seconds. */
export interface WatchPlan {
  readonly logGroupName: string;
  readonly observationDays: number;
  readonly pendingWindowInDays: number;
  readonly checkIntervalSeconds: number;
  readonly ingestionLagSeconds: number;
  readonly watchPendingWindow: boolean;
  /** GuardConfig.workflowPrincipalArns: whose records are the workflow's own. */
  readonly workflowPrincipalArns?: readonly string[] | undefined;
}

export interface Refusal {
  readonly cause: RefusalCause;
  readonly message: string;
}

/** Result of AssessKey, stored at `$.assessment`. */
export interface Assessment {
  readonly verdict: 'ACCEPTED' | 'REFUSED';
  /** Set when verdict is REFUSED. */
  readonly refusal: Refusal | null;
  /** `"<CAUSE>: <message>"` for the Fail state's CausePath; empty when accepted. */
  readonly causeText: string;
  /** Null only when the input was invalid or the key could not be read. */
  readonly key: KeyFacts | null;
  readonly usage: UsageAssessment | null;
  readonly request: ExecutionRequest | null;
  readonly plan: WatchPlan | null;
  readonly warnings: readonly string[];
  readonly assessedAt: string;
  /** Plain-text summary for the approval e-mail (no placeholders). */
  readonly summaryText: string;
  /** E-mail subject, valid for SNS (see subject.ts). */
  readonly subject: string;
  /**
   * What the key protects, as the inventory step found it before the disable approval (absent until
   * that step ran, and on assessments refused before it).
   */
  readonly inventory?: InventoryReport | null | undefined;
}

/** Result of the inventory right before ScheduleKeyDeletion, stored at `$.finalInventory`. */
export interface InventoryCheck {
  readonly verdict: 'CLEAR' | 'REFUSED';
  readonly refusal: Refusal | null;
  /** `"<CAUSE>: <message>"`; empty when clear. */
  readonly causeText: string;
  readonly inventory: InventoryReport;
}

/** Result of DisableKey, stored at `$.disable`. */
export interface DisableResult {
  readonly disabledAt: string;
  /** True when the key was Enabled before this execution disabled it. */
  readonly wasEnabled: boolean;
}

/** The watch's cursor, stored at `$.watch`; CheckForBreakage / FinalCheck / CheckPendingUse return it. */
export interface WatchState {
  readonly phase: 'OBSERVE' | 'FINAL' | 'PENDING';
  /** End of the last window already searched (the next window starts at cursor - lag). */
  readonly cursor: string;
  /** eventIDs already seen in the overlap, so a record is never counted twice. */
  readonly seenEventIds: readonly string[];
  readonly checks: number;
  /** When the Wait state should wake the next check. */
  readonly nextCheckAt: string;
  /** OBSERVE: true once the observation period and the lag have passed (go to FinalCheck). PENDING: true when the window is over. */
  readonly done: boolean;
  /** True when a record shows the key is still needed. */
  readonly broke: boolean;
  readonly evidence: readonly Evidence[];
  readonly evidenceCount: number;
  readonly scanned: number;
  /** Plain-text observation report (for the deletion approval e-mail) or evidence e-mail body. */
  readonly reportText: string;
  readonly subject: string;
  /**
   * The workflow's own failing calls on the key (the canaries): each must show up in the source
   * within the ingestion lag, or the watch is blind. Absent in states written before canaries.
   */
  readonly canaries?: readonly Canary[] | undefined;
  /** Canaries whose records the source has shown so far, over all phases. */
  readonly canariesSeen?: number | undefined;
  /** The key's state as the last check read it (`NotFound` once KMS deleted it). */
  readonly keyState?: string | undefined;
  /**
   * Present when the last check found the key changed by someone else. The check searched first, so
   * the evidence above is complete; the workflow then ends through its restore with this error.
   */
  readonly keyChange?: KeyChange | undefined;
  /**
   * Present while the check's search is not done: it ran out of its invocation's time, and the next
   * invocation of the same check goes on from here. Nothing is decided until it is absent.
   */
  readonly resume?: SearchResume | undefined;
}

/** How a check found the key changed by someone else, as the error the workflow ends with. */
export interface KeyChange {
  /** The error's name (`KeyChangedExternallyError`). */
  readonly error: string;
  /** What changed, in a sentence. */
  readonly cause: string;
}

/** One canary: a cryptographic call the workflow made on the disabled key, which had to fail. */
export interface Canary {
  /** The KMS request ID (the `requestID` of its CloudTrail record); empty when KMS sent none. */
  readonly requestId: string;
  readonly at: string;
  /** `Encrypt`, `Sign`, `GenerateMac` or `DeriveSharedSecret`. */
  readonly operation: string;
  /** The error KMS answered (`DisabledException` or `KMSInvalidStateException`). */
  readonly errorCode: string;
  /** True once the source showed its record. */
  readonly seen: boolean;
}

/** A CloudTrail record that shows someone still needs the key. */
export interface Evidence {
  readonly eventID: string;
  readonly eventTime: string;
  readonly eventName: string;
  readonly errorCode: string;
  readonly principal: string;
  readonly sourceIPAddress: string;
  readonly userAgent: string;
  readonly recipientAccountId?: string | undefined;
}

/** Result of ScheduleDeletion, stored at `$.deletion`. */
export interface ScheduleResult {
  readonly scheduledAt: string;
  /** Null while a multi-Region primary waits for its replicas (PendingReplicaDeletion). */
  readonly deletionDate: string | null;
  readonly keyState: string;
  readonly pendingWindowInDays: number;
  /** The pending watch's TimeoutSeconds: it must answer before the deletion leaves no time to cancel it. */
  readonly watchTimeoutSeconds: number;
}

export type RestoreMode = 'ROLLBACK' | 'CANCEL_DELETION' | 'ABORT';

/** Result of the restore step (RollBack, CancelDeletion, Restore), stored at `$.restore`. */
export interface RestoreResult {
  readonly mode: RestoreMode;
  readonly actions: readonly ('EnableKey' | 'CancelKeyDeletion' | 'NONE')[];
  readonly finalKeyState: string;
  readonly restoredAt: string | null;
  readonly reason: string;
  readonly subject: string;
  readonly messageText: string;
  /** `"<OUTCOME or CAUSE>: <message>"` for the Fail state's CausePath. */
  readonly causeText: string;
  /**
   * Set when the hold ended with another outcome than this step's: the fast path (EventBridge)
   * already undid this execution's hold, or this step cancelled a deletion someone else scheduled
   * because callers fail on the key. The workflow ends with this outcome, with `watch` (the fast
   * path's record added) as its evidence, and e-mails only when the fast path could not (`notified`
   * false: the e-mail is this result's).
   */
  readonly fastPath?: {
    readonly outcome: 'ROLLED_BACK' | 'DELETION_CANCELLED';
    readonly notified: boolean;
    readonly watch: WatchState;
  } | null;
}

/**
 * How the person who decided is known. `self-declared`: a name typed on the approval page, which
 * nothing verifies (the request proves only its source IP and user agent). `iam`: the AWS identity
 * that signed the CLI's SendTaskSuccess, as STS GetCallerIdentity named it.
 */
export type DeciderIdentity =
  | { readonly kind: 'self-declared' }
  | { readonly kind: 'iam'; readonly arn: string; readonly userId: string; readonly account: string };

/** An approval answer sent with SendTaskSuccess (the token task's output), stored at `$.<step>Approval`. */
export interface ApprovalDecision {
  readonly decision: 'approve';
  /** The name as typed (self-declared) or the verified identity (IAM ARN). */
  readonly by: string;
  readonly at: string;
  readonly comment?: string | undefined;
  /** Absent in decisions recorded before identities were: those names were all self-declared. */
  readonly identity?: DeciderIdentity | undefined;
  /** Where the decision was made. */
  readonly via?: 'approval-page' | 'cli' | undefined;
  /** What the page's request proves about its sender (API Gateway's view of the connection). */
  readonly sourceIp?: string | null | undefined;
  readonly userAgent?: string | null | undefined;
}

/*
 * Handler events: what each Lambda task's Payload carries (the workflow builds them with
 * Parameters). Handlers validate them with the schemas of lambdas/contracts/events.ts and throw
 * InvalidHandlerEventError otherwise.
 */

/** AssessKey. `input` is the raw execution input (anything); `config` the stack configuration. */
export interface AssessEvent {
  readonly input: unknown;
  readonly config: GuardConfig;
  readonly executionArn: string;
}

/** DisableKey. */
export interface DisableEvent {
  readonly executionArn: string;
  readonly assessment: Assessment;
  /** The answer to RequestDisableApproval, recorded on the key's tags. */
  readonly approval?: ApprovalDecision | null;
}

/** Result of DisableKey: the hold and the first watch cursor. */
export interface DisableOutput extends DisableResult {
  readonly watch: WatchState;
}

/** CheckForBreakage (phase OBSERVE), FinalCheck (FINAL), CheckPendingUse (PENDING). */
export interface CheckEvent {
  readonly executionArn: string;
  readonly phase: WatchState['phase'];
  readonly assessment: Assessment;
  readonly disable: DisableResult;
  readonly watch: WatchState;
  readonly deletion?: ScheduleResult | null;
  /** PENDING: the look at the key on its deletion date, after the last pending check (no chain, no canary). */
  readonly atDeletion?: boolean | undefined;
}

/** ScheduleDeletion. */
export interface ScheduleEvent {
  readonly executionArn: string;
  readonly assessment: Assessment;
  /** The answer to RequestDeletionApproval, recorded on the key's tags. */
  readonly approval?: ApprovalDecision | null;
  readonly disable: DisableResult;
  readonly watch: WatchState;
}

/** Result of ScheduleDeletion: the schedule and the first pending-window cursor. */
export interface ScheduleOutput extends ScheduleResult {
  readonly watch: WatchState;
}

/**
 * ScheduleDeletion's answer while its canary proof's search is split across invocations: nothing
 * was claimed or scheduled; the workflow calls it again with `resume` in `watch`.
 */
export interface ScheduleContinuation {
  readonly resume: SearchResume;
}

/** RollBack (ROLLBACK), CancelDeletion (CANCEL_DELETION), Restore (ABORT). */
export interface RestoreEvent {
  readonly executionArn: string;
  readonly mode: RestoreMode;
  /** The outcome the execution ends with after this step. */
  readonly outcome: Outcome;
  readonly assessment: Assessment;
  readonly watch?: WatchState | null;
  /** The caught error (`{ Error, Cause }`) when mode is ABORT after a failure. */
  readonly error?: { readonly Error: string; readonly Cause?: string } | null;
}
