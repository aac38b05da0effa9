/**
 * What the progress message is drawn from: the run's snapshot and what Flowgate knows about it
 * (who started it, who answered, who may answer, deadlines). Plain data, shared by the message's
 * renderer (run-message.ts) and its questions part (questions.ts).
 */
import type { RunSnapshot } from '../../mastra/types.ts';
import type { Answerers } from '../../policy/types.ts';
import type { SettledDeadlines, WaitingDeadlines } from './deadline-lines.ts';

export interface AnswerRecord {
  /** Who answered in Slack; `null` when the step was answered outside Slack (Mastra's API, Studio). */
  userId: string | null;
  at: Date;
  summary: string;
}

export interface ProgressView {
  workflow: { key: string; name: string };
  snapshot: RunSnapshot;
  starterId: string | null;
  /** `elsewhere`: a run Flowgate did not start; its starter is then shown as the requester. */
  origin?: 'slack' | 'elsewhere';
  /** The requester of a run started elsewhere when it is no Slack user (shown as text). */
  requester?: string;
  /** Set while the requester (`requester`, an address) is still being looked up in Slack. */
  requesterPending?: { lookup: string };
  startedAt: Date;
  canceledBy?: string;
  /** Answers, keyed by the question answered (`suspensionKey` of src/runs/suspensions.ts). */
  answers?: Record<string, AnswerRecord>;
  /**
   * For each question waiting (`questionKey` of src/runs/suspensions.ts: the step's path joined
   * with ".", and its `.foreach()` item): who may answer, whether it is a plain yes/no, its
   * deadlines, and who was asked by DM as they cannot read this conversation.
   */
  suspensions?: Record<
    string,
    { answerers: Answerers; yesNo: boolean; deadlines?: WaitingDeadlines; askedByDm?: string[] }
  >;
  /** Deadlines and quorums of steps that no longer wait: what happened (deadline-lines.ts). */
  settled?: SettledDeadlines[];
  /** Set when the message cannot follow the run any more (e.g. the Mastra server is unreachable). */
  notice?: string;
}

/** What the message shows of one question (`ProgressView['suspensions']`'s entry). */
export type QuestionInfo = NonNullable<ProgressView['suspensions']>[string];
