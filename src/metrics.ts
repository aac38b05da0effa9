/**
 * Every metric Flowgate exposes on `GET /metrics` (Prometheus text format, prom-client), in one
 * place. Each app has a registry of its own (never prom-client's global one: tests and benchmarks
 * run several apps in one process). What is a number already somewhere (streams held, runs on the
 * shared check, leases, the publisher's queue) is read at scrape time through `observe`; what
 * happens (calls, deadlines, answers, watch cycles) is counted as it happens through the hooks the
 * parts offer (`onCall` of the Mastra client, the Slack gateway's `onCall`, the scheduler's
 * `onDue`, the watcher's `onCycle`, the use cases' `onAnswer`).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { MastraCall } from './mastra/transport.ts';
import type { SlackCall } from './slack/io/gateway.ts';
import type { PublisherStats } from './slack/io/publisher.ts';
import type { AnswerEvent } from './slack/usecases/context.ts';

/** What is read at scrape time: each returns the number now. */
export interface Observed {
  streams(): number;
  shared(): number;
  leases(): number;
  publisher(): PublisherStats;
}

const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Publisher counters mirrored as Prometheus counters (they only grow). */
const EDIT_RESULTS = ['sent', 'rateLimited', 'dropped', 'failed', 'unchanged'] as const;
const EDIT_LABEL: Record<(typeof EDIT_RESULTS)[number], string> = {
  sent: 'sent',
  rateLimited: 'rate_limited',
  dropped: 'dropped',
  failed: 'failed',
  unchanged: 'unchanged',
};

export class FlowgateMetrics {
  readonly registry = new Registry();
  readonly #mastraCalls: Counter<'method' | 'path' | 'outcome'>;
  readonly #mastraSeconds: Histogram<'method' | 'path'>;
  readonly #slackCalls: Counter<'method' | 'outcome' | 'error'>;
  readonly #slackSeconds: Histogram<'method'>;
  readonly #deadlines: Counter<'kind' | 'late'>;
  readonly #deadlineFailures: Counter;
  readonly #answers: Counter<'event'>;
  readonly #watchSeconds: Histogram;
  #observed: Observed | undefined;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const metrics = this;
    new Gauge({
      name: 'flowgate_runs_followed',
      help: 'Runs this replica follows, by how: a live event stream, or the shared check of run lists',
      labelNames: ['how'],
      registers,
      collect() {
        const seen = metrics.#observed;
        this.set({ how: 'stream' }, seen?.streams() ?? 0);
        this.set({ how: 'shared' }, seen?.shared() ?? 0);
      },
    });
    new Gauge({
      name: 'flowgate_leases_held',
      help: 'Run leases this replica holds (the runs it is responsible for following)',
      registers,
      collect() {
        this.set(metrics.#observed?.leases() ?? 0);
      },
    });
    new Gauge({
      name: 'flowgate_publisher_queued_messages',
      help: 'Progress messages with a state waiting to be sent',
      registers,
      collect() {
        this.set(metrics.#observed?.publisher().queued ?? 0);
      },
    });
    new Gauge({
      name: 'flowgate_publisher_edit_lag_seconds',
      help: 'How long the progress state waiting longest has waited to be sent',
      registers,
      collect() {
        this.set((metrics.#observed?.publisher().oldestWaitingMs ?? 0) / 1000);
      },
    });
    const counted: Record<string, number> = {};
    new Counter({
      name: 'flowgate_progress_edits_total',
      help: 'Progress message states by what became of them: sent, rate_limited (a 429 answered), dropped (replaced by a newer one), failed, unchanged (nothing to send)',
      labelNames: ['result'],
      registers,
      collect() {
        const stats = metrics.#observed?.publisher();
        for (const key of EDIT_RESULTS) {
          const now = stats?.[key] ?? 0;
          const delta = now - (counted[key] ?? 0);
          counted[key] = now;
          this.inc({ result: EDIT_LABEL[key] }, Math.max(0, delta));
        }
      },
    });
    this.#mastraCalls = new Counter({
      name: 'flowgate_mastra_calls_total',
      help: 'Calls to the Mastra server by method, kind of path and outcome (ok, or the error code)',
      labelNames: ['method', 'path', 'outcome'],
      registers,
    });
    this.#mastraSeconds = new Histogram({
      name: 'flowgate_mastra_call_duration_seconds',
      help: 'Time to the Mastra server’s answer (a stream: to its first bytes), by method and kind of path',
      labelNames: ['method', 'path'],
      buckets: CALL_BUCKETS,
      registers,
    });
    this.#slackCalls = new Counter({
      name: 'flowgate_slack_calls_total',
      help: 'Slack Web API calls (each attempt) by method and outcome: ok, 429, 5xx, http (another status), network, error (ok:false, with its error)',
      labelNames: ['method', 'outcome', 'error'],
      registers,
    });
    this.#slackSeconds = new Histogram({
      name: 'flowgate_slack_call_duration_seconds',
      help: 'Time of each Slack Web API attempt, by method',
      labelNames: ['method'],
      buckets: CALL_BUCKETS,
      registers,
    });
    this.#deadlines = new Counter({
      name: 'flowgate_deadlines_fired_total',
      help: 'Deadlines (reminders, escalations, timeouts) fired by this replica, by kind and whether late (fell due while Flowgate was down)',
      labelNames: ['kind', 'late'],
      registers,
    });
    this.#deadlineFailures = new Counter({
      name: 'flowgate_deadlines_failed_total',
      help: 'Deadline actions that failed, and failed checks for due deadlines',
      registers,
    });
    this.#answers = new Counter({
      name: 'flowgate_answers_total',
      help: 'Answers to suspended steps: claim_won, claim_lost (someone answered first), resumed, resume_failed',
      labelNames: ['event'],
      registers,
    });
    this.#watchSeconds = new Histogram({
      name: 'flowgate_watch_cycle_seconds',
      help: 'Time of one check of the Mastra server’s run lists (runs started elsewhere, the shared check)',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  /** What the gauges read at scrape time. */
  observe(observed: Observed): void {
    this.#observed = observed;
  }

  mastraCall(call: MastraCall): void {
    const outcome = call.error ?? 'ok';
    this.#mastraCalls.inc({ method: call.method, path: call.path, outcome });
    this.#mastraSeconds.observe({ method: call.method, path: call.path }, call.ms / 1000);
  }

  slackCall(call: SlackCall): void {
    this.#slackCalls.inc({ method: call.method, outcome: call.outcome, error: call.error ?? '' });
    this.#slackSeconds.observe({ method: call.method }, call.ms / 1000);
  }

  deadlineFired(kind: string, late: boolean): void {
    this.#deadlines.inc({ kind, late: late ? 'true' : 'false' });
  }

  deadlineFailed(): void {
    this.#deadlineFailures.inc();
  }

  answer(event: AnswerEvent): void {
    this.#answers.inc({ event });
  }

  watchCycle(ms: number): void {
    this.#watchSeconds.observe(ms / 1000);
  }

  /** The exposition: `text` in `contentType`. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}
