/**
 * The extra cost of sending thread replies through the outbox (src/slack/io/outbox.ts) rather than
 * posting them straight: the same replies, one after another, to the Slack emulator (rate limits
 * off), posted by the gateway alone or written to the outbox and tried at once, on SQLite and on
 * PostgreSQL. Run alone: `node bench/outbox.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSlackEmulator } from '../src/emulator/index.ts';
import { silentLogger } from '../src/logger.ts';
import { SlackGateway } from '../src/slack/io/gateway.ts';
import { Outbox } from '../src/slack/io/outbox.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { GENERAL } from '../test/support/flowgate.ts';
import { startPostgres } from '../test/support/postgres.ts';
import { compare, fmt, table } from './lib/stats.ts';

const PER_ROUND = 50;
const ROUNDS = 7;

export async function run(): Promise<string> {
  const emulator = await startSlackEmulator({ rateLimits: false });
  const gateway = new SlackGateway({ token: emulator.botToken, slackApiUrl: emulator.apiUrl });
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-bench-outbox-'));
  const pg = await startPostgres();
  const stores: [string, Store][] = [
    ['SQLite', openStore(join(dir, 'flowgate.db'))],
    ['PostgreSQL', openStore(await pg.createDatabase())],
  ];
  const rows: string[][] = [];
  try {
    const parent = (await gateway.postInChannel(GENERAL, { text: 'a run' }, 'interactive')).ts;
    for (const [name, store] of stores) {
      await store.ready();
      const outbox = new Outbox({ store, gateway, logger: silentLogger, owner: 'bench' });
      let n = 0;
      const ms = await compare(
        {
          direct: async () => {
            for (let i = 0; i < PER_ROUND; i++)
              await gateway.postNotice(GENERAL, parent, { text: `reply ${++n}` }, `straight:${n}`, 'notice');
          },
          outbox: async () => {
            for (let i = 0; i < PER_ROUND; i++) {
              const key = `bench:run-${name}:${++n}`;
              await outbox.send({ key, runId: null, to: { channel: GENERAL, threadTs: parent }, text: key });
            }
          },
        },
        ROUNDS,
      );
      const direct = ms.direct / PER_ROUND;
      const through = ms.outbox / PER_ROUND;
      rows.push([name, fmt(direct, 2), fmt(through, 2), fmt(through - direct, 2)]);
    }
  } finally {
    gateway.close();
    for (const [, store] of stores) await store.close();
    await pg.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    '## Thread replies and DMs through the outbox',
    '',
    `Reproduce: \`node bench/outbox.ts\`. ${PER_ROUND} thread replies one after another to the Slack emulator on this machine (rate limits off), median of ${ROUNDS} rounds: posted straight by the gateway (\`postNotice\`, one attempt), or written to the outbox, claimed and marked sent around the same post (three statements: the insert, the claim, the result).`,
    '',
    table(
      ['store', 'straight, ms per reply', 'through the outbox, ms per reply', 'extra per notice, ms'],
      rows,
    ),
  ].join('\n');
}

if (import.meta.main) console.log(await run());
