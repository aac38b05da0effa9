/**
 * Run ownership across replicas, through leases in the shared store: each unfinished run is
 * followed by one replica at a time. A replica takes a run's lease when it starts or resumes the run
 * (it holds the live stream), or finds one nobody follows; renews what it holds every quarter of
 * `leaseMs`, with leases that last three quarters of it, so a replica that dies (SIGKILL) has its runs
 * taken by the others within `leaseMs`; and gives everything back at once when it stops cleanly.
 * Each replica claims up to an even share of the runs among the live ones (from the heartbeats):
 * no leader.
 *
 * A replica's id names its host, process id and process space (host name, boot and PID namespace):
 * a holder in this very process space whose process is gone (a SIGKILLed process restarted on the
 * same database, or a neighbour on the same machine) is known dead at once — its leases are taken
 * back without waiting for them to run out. A holder elsewhere, or whose pid is alive (even if
 * reused), waits for its leases as ever.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from '../logger.ts';
import type { ProgressMessage, Store } from '../store/index.ts';

export interface RunLeasesOptions {
  store: Store;
  leaseMs: number;
  logger: Logger;
  /** This replica's id in the store. Default: host, process id, process space and a random part (see {@link replicaId}). */
  replicaId?: string;
  /** Runs claimed from the store (nobody followed them): follow them. */
  onClaimed(runs: ProgressMessage[]): void;
  /** Runs another replica holds now: stop following them here. */
  onLost(runIds: string[]): void;
  now?(): number;
}

function readOr(read: () => string): string {
  try {
    return read().trim();
  } catch {
    return '';
  }
}

/**
 * Tells this process space apart from any other: the host name, the kernel's boot id and the PID
 * namespace (Linux; elsewhere the host name alone, where one host is one process space). Two
 * processes see each other's pids exactly when their spaces match.
 */
export function processSpace(): string {
  const parts = [
    hostname(),
    readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')),
    readOr(() => readlinkSync('/proc/self/ns/pid')),
  ];
  return createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 8);
}

/** A replica id: `<host>-<pid>-<space>.<random>`. */
export function replicaId(pid = process.pid, space = processSpace()): string {
  return `${hostname()}-${pid}-${space}.${randomUUID().slice(0, 8)}`;
}

/** The process of a replica id in process space `space`, if the id names one there. */
export function pidInSpace(id: string, space: string): number | undefined {
  const match = /-(\d+)-([0-9a-f]{8})\.[0-9a-f]{8}$/.exec(id);
  if (!match || match[2] !== space) return undefined;
  const pid = Number(match[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** False only when no process `pid` exists (ESRCH); a process of another user (EPERM) is alive. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Replicas running in this very process (tests run several on one store). */
const HERE = new Set<string>();

export class RunLeases {
  readonly id: string;
  readonly #options: RunLeasesOptions;
  readonly #held = new Set<string>();
  readonly #now: () => number;
  readonly #space = processSpace();
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;
  #live = 1;

  constructor(options: RunLeasesOptions) {
    this.#options = options;
    // Names its host and process, so an operator (or a test) can tell which replica holds a run.
    this.id = options.replicaId ?? replicaId(process.pid, this.#space);
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

  /** Forgets a run another replica took (it holds the lease now): nothing to give back. */
  forget(runId: string): void {
    this.#held.delete(runId);
  }

  /** Gives a run back: following it ended here. */
  async release(runId: string): Promise<void> {
    if (!this.#held.delete(runId)) return;
    await this.#options.store.releaseRun(runId, this.id);
  }

  /** First heartbeat and claim — runs waiting for an answer included, to see what changed while down — then the renewal loop. */
  async start(): Promise<void> {
    HERE.add(this.id);
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

  /**
   * Replicas of this process space whose process is gone: forgotten, their leases and claims of
   * notices given back, so their runs are claimed now rather than when the leases run out.
   */
  async #buryDead(now: Date): Promise<void> {
    const { store, logger } = this.#options;
    for (const id of await store.replicaIds(now)) {
      if (id === this.id) continue;
      const pid = pidInSpace(id, this.#space);
      // Our own pid under an id not running here: an earlier process, certainly gone.
      if (pid === undefined || HERE.has(id) || (pid !== process.pid && processAlive(pid))) continue;
      logger.info(`replica ${id} is gone (no process ${pid} here): taking its runs over now`);
      await store.releaseRuns(id);
      await store.releaseNotices(id); // its thread replies and DMs too (src/slack/io/outbox.ts)
      await store.leave(id);
    }
  }

  /** One round: forget dead neighbours, heartbeat, renew, claim. */
  async #tick(parked: boolean): Promise<void> {
    const { store } = this.#options;
    const now = new Date(this.#now());
    const until = this.#until();
    await this.#buryDead(now);
    this.#live = await store.heartbeat(this.id, until, now);
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
    HERE.delete(this.id);
    clearTimeout(this.#timer);
    await this.#ticking;
    this.#held.clear();
    await this.#options.store.releaseRuns(this.id);
    await this.#options.store.leave(this.id);
  }
}
