/** `npm run bench`: every benchmark, printed as the markdown kept in BENCHMARKS.md. */
import { run as budgets } from './budgets.ts';
import { run as deadlines } from './deadlines.ts';
import { run as elsewhere } from './elsewhere.ts';
import { run as mastra } from './mastra.ts';
import { run as operable } from './operable.ts';
import { run as outbox } from './outbox.ts';
import { run as patterns } from './patterns.ts';
import { run as policy } from './policy.ts';
import { run as replicas } from './replicas.ts';
import { run as sandbox } from './sandbox.ts';
import { run as scale } from './scale.ts';
import { run as slack } from './slack.ts';
import { run as tree } from './tree.ts';
import { run as visibility } from './visibility.ts';

const benchmarks = [
  mastra,
  slack,
  elsewhere,
  sandbox,
  tree,
  replicas,
  deadlines,
  visibility,
  patterns,
  policy,
  budgets,
  scale, // its quick levels (100 and 1,000 runs); `node bench/scale.ts` for all of them
  outbox,
  operable,
];
for (const [i, run] of benchmarks.entries()) {
  if (i > 0) console.log('');
  console.log(await run());
}
