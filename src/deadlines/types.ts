/** Deadlines and votes as the store keeps them. */
import type { DeadlineKind } from './plan.ts';

/**
 * One deadline of one suspension: keyed by the run, the suspension (the same key its answers are
 * claimed under) and the kind. A reminder is one row whose `dueAt` moves on each time it fires.
 */
export interface Deadline {
  runId: string;
  /** The suspension's key, as answers are keyed: `<dotted step path>#<suspendedAt ms>`. */
  suspensionKey: string;
  /** The suspended step's path (dotted). */
  stepPath: string;
  kind: DeadlineKind;
  /** When the step started waiting: what every duration counts from. */
  since: Date;
  dueAt: Date;
  /** `pending` until it fires; `done` once acted on; `dropped` when the step was answered first or it cannot act. */
  state: 'pending' | 'done' | 'dropped';
  /** When it last fired (a reminder keeps the time of its latest). */
  firedAt?: Date;
  /** It fired after Flowgate was down (or long after it was due). */
  late?: boolean;
  /** What became of it, in plain words ("canceled", "answered", or why it could not act). */
  outcome?: string;
}

/** What the scheduler needs from the store. */
export interface DeadlineQueue {
  /** Pending deadlines due at `now` (none claimed by a live process), soonest first, at most `limit`. */
  dueDeadlines(now: Date, limit: number): Promise<Deadline[]>;
  /**
   * Claims a due deadline for this process, across every process sharing the database: true for
   * exactly one caller (a conditional update on its state and due time). A claim left by a stopped
   * process is taken over after `CLAIM_LEASE_MS`.
   */
  claimDeadline(deadline: Deadline, now: Date): Promise<boolean>;
}

/** A deadline firing: now, and whether it fell due while Flowgate was down (or long ago). */
export interface Firing {
  late: boolean;
  now: Date;
}

/** What a deadline of one kind does when it falls due and this process claimed it. */
export type DeadlineAction = (deadline: Deadline, firing: Firing) => Promise<void>;

/** One action per kind of deadline: what the scheduler calls. */
export type DeadlineActions = Readonly<Record<DeadlineKind, DeadlineAction>>;
