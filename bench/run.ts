/** `npm run bench`: every benchmark, printed as the markdown kept in BENCHMARKS.md. */
import { run as deadlines } from './deadlines.ts';
import { run as elsewhere } from './elsewhere.ts';
import { run as mastra } from './mastra.ts';
import { run as patterns } from './patterns.ts';
import { run as policy } from './policy.ts';
import { run as replicas } from './replicas.ts';
import { run as sandbox } from './sandbox.ts';
import { run as slack } from './slack.ts';
import { run as tree } from './tree.ts';

console.log(await mastra());
console.log('');
console.log(await slack());
console.log('');
console.log(await elsewhere());
console.log('');
console.log(await sandbox());
console.log('');
console.log(await tree());
console.log('');
console.log(await replicas());
console.log('');
console.log(await deadlines());
console.log('');
console.log(await patterns());
console.log('');
console.log(await policy());
