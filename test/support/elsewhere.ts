/** Runs started the way another system would: Mastra's HTTP API, no Slack anywhere. */

/**
 * Creates a run of `workflow` (with `resourceId` naming its requester, when given) and starts it
 * without waiting for it; resolves to its id.
 */
export async function startElsewhere(
  mastra: { url: string },
  workflow: string,
  inputData: unknown,
  resourceId?: string,
): Promise<string> {
  const api = `${mastra.url}/api/workflows/${workflow}`;
  const created = await fetch(`${api}/create-run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(resourceId === undefined ? {} : { resourceId }),
  });
  const { runId } = (await created.json()) as { runId: string };
  const started = await fetch(`${api}/start?runId=${runId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputData }),
  });
  if (started.status !== 200) throw new Error(`starting ${workflow} answered HTTP ${started.status}`);
  return runId;
}
