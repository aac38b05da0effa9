/**
 * Captures the display tree's fixtures (110–121) from a real Mastra server running the construct
 * workflows of ./constructs.ts, in the same `curl -i` form as the other fixtures: status line,
 * headers, raw body. Rerun after a Mastra upgrade: `node test/support/mastra/capture-constructs.ts`.
 */
import { writeFileSync } from 'node:fs';
import { createConstructWorkflows } from './constructs.ts';
import { FIXTURES_DIR } from './fixtures.ts';
import { startMastraServer } from './server.ts';

const server = await startMastraServer({ workflows: createConstructWorkflows() });
const api = `${server.url}/api`;

async function capture(name: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<void> {
  const response = await fetch(api + path, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const head = [`HTTP/1.1 ${response.status} ${response.statusText}`];
  response.headers.forEach((value, key) => {
    if (key !== 'date' && key !== 'transfer-encoding') head.push(`${key}: ${value}`);
  });
  writeFileSync(`${FIXTURES_DIR}${name}.http`, `${head.join('\r\n')}\r\n\r\n${text}`);
  console.log(`${name}: ${method} ${path} → ${response.status}`);
}

const create = (workflow: string, runId: string) =>
  fetch(`${api}/workflows/${workflow}/create-run?runId=${runId}`, { method: 'POST' });

await capture('110-get-workflow-tour', 'GET', '/workflows/tour');
await create('tour', 'tour-1');
await capture('111-stream-tour', 'POST', '/workflows/tour/stream?runId=tour-1', { inputData: { n: 1 } });
await capture('112-run-by-id-tour', 'GET', '/workflows/tour/runs/tour-1');

await create('asker', 'ask-1');
await capture('113-stream-asker-suspends', 'POST', '/workflows/asker/stream?runId=ask-1', {
  inputData: { turn: 1 },
});
await capture('114-resume-stream-asker-asks-again', 'POST', '/workflows/asker/resume-stream?runId=ask-1', {
  step: 'ask',
  resumeData: { answer: 'go' },
});
await capture('115-run-by-id-asker-second-question', 'GET', '/workflows/asker/runs/ask-1');
await capture('116-resume-stream-asker-stops', 'POST', '/workflows/asker/resume-stream?runId=ask-1', {
  step: 'ask',
  resumeData: { answer: 'stop' },
});
await capture('117-run-by-id-asker-success', 'GET', '/workflows/asker/runs/ask-1');

await create('items', 'items-1');
await capture('118-stream-items-foreach-suspends', 'POST', '/workflows/items/stream?runId=items-1', {
  inputData: [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
});
await capture('119-run-by-id-items-suspended', 'GET', '/workflows/items/runs/items-1');

await capture('120-get-workflow-shapes', 'GET', '/workflows/shapes');
await capture('121-get-workflow-napper', 'GET', '/workflows/napper');

await server.close();
