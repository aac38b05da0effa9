/**
 * Run ownership across replicas, through leases in the shared store: each unfinished run is
 * followed by one replica at a time. A replica takes a run's lease when it starts or resumes the run
 * (it holds the live stream), or finds one nobody follows; renews what it holds every quarter of
 * `leaseMs`, with leases that last three quarters of it, so a replica that dies (SIGKILL) has its runs
 * taken by the others within `leaseMs`; and gives everything back at once when it stops cleanly.
 * Each replica claims up to an even share of the runs among the live ones: no leader.
 * The same heartbeat tells how many replicas are alive, for sharing the workspace's update budget.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../logger.ts';
import type { ProgressMessage, Store } from '../store/index.ts';

export interface RunLeasesOptions {
  store: Store;
  leaseMs: number;
  logger: Logger;
  /** This replica's id in the store. Default: host, process id and a random part. */
  replicaId?: string;
  /** Runs claimed from the store (nobody followed them): follow them. */
  onClaimed(runs: ProgressMessage[]): void;
  /** Runs another replica holds now: stop following them here. */
  onLost(runIds: string[]): void;
  /** How many replicas are alive, after every heartbeat. */
  onReplicas?(live: number): void;
  now?(): number;
}

export class RunLeases {
  readonly id: string;
  readonly #options: RunLeasesOptions;
  readonly #held = new Set<string>();
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;
  #live = 1;

  constructor(options: RunLeasesOptions) {
    this.#options = options;
    // Names its host and process, so an operator (or a test) can tell which replica holds a run.
    this.id = options.replicaId ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
    this.#now = options.now ?? Date.now;
  }

  /** Replicas alive at the last heartbeat (this one included). */
  get live(): number {
    return this.#live;
  }

  /** Runs this replica holds. */
  held(): string[] {
    return [...this.#held];
  }

  #until(): Date {
    return new Date(this.#now() + Math.floor((this.#options.leaseMs * 3) / 4));
  }

  /** Takes a run's lease (see `Store.acquireRun`); `force` when this replica holds its live stream. */
  async acquire(runId: string, force = false): Promise<boolean> {
    if (this.#stopped) return false;
    const got = await this.#options.store.acquireRun(
      runId,
      this.id,
      this.#until(),
      new Date(this.#now()),
      force,
    );
    if (got) this.#held.add(runId);
    return got;
  }

  /** Gives a run back: following it ended here. */
  async release(runId: string): Promise<void> {
    if (!this.#held.delete(runId)) return;
    await this.#options.store.releaseRun(runId, this.id);
  }

  /** First heartbeat and claim — runs waiting for an answer included, to see what changed while down — then the renewal loop. */
  async start(): Promise<void> {
    await this.#tick(true);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(
      () => {
        this.#ticking = this.#tick(false)
          .catch((error) => this.#options.logger.warn('renewing run leases failed; trying again', error))
          .finally(() => {
            this.#ticking = undefined;
            this.#schedule();
          });
      },
      Math.max(50, Math.floor(this.#options.leaseMs / 4)),
    );
    this.#timer.unref?.();
  }

  /** One round now: heartbeat, renew, claim (tests and benchmarks use it too). */
  async #tick(parked: boolean): Promise<void> {
    const { store } = this.#options;
    const now = new Date(this.#now());
    const until = this.#until();
    this.#live = await store.heartbeat(this.id, until, now);
    this.#options.onReplicas?.(this.#live);
    const kept = new Set(await store.renewRuns(this.id, until, now));
    const lost = [...this.#held].filter((runId) => !kept.has(runId));
    for (const runId of lost) this.#held.delete(runId);
    if (lost.length > 0) this.#options.onLost(lost);
    if (this.#stopped) return;
    const claimed = await store.claimRuns(this.id, until, now, this.#live, parked);
    for (const row of claimed) this.#held.add(row.runId);
    if (claimed.length > 0) this.#options.onClaimed(claimed);
  }

  /** Stops renewing and hands every run over at once (a clean stop). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#ticking;
    this.#held.clear();
    await this.#options.store.releaseRuns(this.id);
    await this.#options.store.leave(this.id);
  }
}
