/**
 * The lines of the progress message about deadlines and quorums: for a waiting step, what will
 * happen next (reminders, escalation, timeout, in the viewer's timezone) and how many approvals it
 * has; for a settled one, what happened. Pure.
 */
import { durationWords } from '../../deadlines/durations.ts';
import type { OnTimeout } from '../../policy/types.ts';
import { inlineValue, mentionGroup, mentionUser, safeText, slackDate, stepName } from '../text/mrkdwn.ts';

/** What the message says about a waiting step's deadlines and approvals. */
export interface WaitingDeadlines {
  remindEvery?: number;
  escalation?: { at: Date; to: readonly string[]; done: boolean };
  timeout?: {
    at: Date;
    onTimeout: OnTimeout /** Why the answer cannot be given automatically. */;
    unfit?: string;
  };
  /** Yes/no steps that need several approvals: those given so far. */
  quorum?: { required: number; approvals: readonly { userId: string; at: Date }[] };
  /** `required` is set above 1 but the step's form is richer than yes/no: why it is ignored. */
  quorumIgnored?: string;
}

/** What happened to a step that no longer waits, as far as deadlines and quorums go. */
export interface SettledDeadlines {
  step: readonly string[];
  escalated?: { after: number; late: boolean };
  timedOut?: { after: number; outcome: 'canceled' | 'answered'; late: boolean };
  approvedBy?: readonly string[];
  rejectedBy?: string;
}

const who = (id: string) => (id.startsWith('S') ? mentionGroup(id) : mentionUser(id));

/** "a, b and c" */
export function listWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** Lines under a waiting step (mrkdwn), empty when it has no deadlines nor quorum. */
export function waitingLines(d: WaitingDeadlines): string[] {
  const lines: string[] = [];
  if (d.quorum) {
    const { required, approvals } = d.quorum;
    const by = approvals.map((a) => `${mentionUser(a.userId)} ${slackDate(a.at)}`);
    lines.push(
      `:ballot_box_with_check: ${approvals.length} of ${required} approvals${by.length > 0 ? ` (${listWords(by.slice(0, 10))})` : ''}`,
    );
  }
  if (d.quorumIgnored) lines.push(`:warning: ${safeText(d.quorumIgnored, 500)}`);
  const next: string[] = [];
  if (d.remindEvery !== undefined) next.push(`Reminds who may answer every ${durationWords(d.remindEvery)}`);
  if (d.escalation) {
    const to = listWords(d.escalation.to.slice(0, 10).map(who));
    next.push(
      d.escalation.done
        ? `escalated to ${to} ${slackDate(d.escalation.at)}`
        : `escalates to ${to} ${slackDate(d.escalation.at)}`,
    );
  }
  if (d.timeout) {
    const outcome =
      d.timeout.onTimeout === 'cancel'
        ? 'the run will be canceled'
        : `answered for you with ${safeText(inlineValue(d.timeout.onTimeout.answer, 200), 300)}`;
    next.push(`times out ${slackDate(d.timeout.at)}: ${outcome}`);
  }
  if (next.length > 0) {
    const text = next.join(' · ');
    lines.push(`:alarm_clock: ${text[0]!.toUpperCase()}${text.slice(1)}`);
  }
  if (d.timeout?.unfit) {
    lines.push(
      `:warning: It will not be answered automatically when it times out: ${safeText(d.timeout.unfit, 600)}`,
    );
  }
  return lines;
}

/** One line about a step that no longer waits, or undefined when nothing about it is worth saying. */
export function settledLine(d: SettledDeadlines): string | undefined {
  const parts: string[] = [];
  if (d.approvedBy && d.approvedBy.length > 0)
    parts.push(`Approved by ${listWords(d.approvedBy.map(mentionUser))}`);
  if (d.rejectedBy) parts.push(`Rejected by ${mentionUser(d.rejectedBy)}`);
  const late = (yes: boolean) => (yes ? ' (late: Flowgate was not running when it was due)' : '');
  if (d.escalated) parts.push(`Escalated after ${durationWords(d.escalated.after)}${late(d.escalated.late)}`);
  if (d.timedOut) {
    parts.push(
      `Timed out after ${durationWords(d.timedOut.after)}: ${d.timedOut.outcome === 'canceled' ? 'canceled' : 'answered by Flowgate'}${late(d.timedOut.late)}`,
    );
  }
  if (parts.length === 0) return undefined;
  return `:alarm_clock: *${stepName(d.step, 150)}*: ${parts.join(' · ')}`;
}
