import { createConstructWorkflows } from '../test/support/mastra/constructs.ts';
import { startMastraServer } from '../test/support/mastra/server.ts';
const server = await startMastraServer({ workflows: createConstructWorkflows() });
const api = `${server.url}/api`;
const post = async (p: string, body: unknown) => { const r = await fetch(api + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }); return r; };
await post('/workflows/napper/create-run?runId=n1', {});
const res = await post('/workflows/napper/stream?runId=n1', { inputData: {} });
const reader = res.body!.getReader();
let text = '';
setTimeout(() => post('/workflows/napper/runs/n1/cancel', {}), 300);
for (;;) { const { done, value } = await reader.read(); if (done) break; text += new TextDecoder().decode(value); }
for (const e of text.split('\x1e').filter(Boolean).map((x) => JSON.parse(x))) console.log(e.type, e.payload?.id, e.payload?.status);
const run = await (await fetch(`${api}/workflows/napper/runs/n1`)).json();
console.log(run.status, JSON.stringify(Object.fromEntries(Object.entries(run.steps).map(([k, v]: any) => [k, v.status]))));
await server.close(); process.exit(0);
