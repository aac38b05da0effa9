import type { JsonObject } from './types.ts';

/** Thrown by method handlers; becomes `{ ok: false, error, ...extra }` (HTTP 200), as Slack answers. */
export class SlackApiError extends Error {
  readonly error: string;
  readonly extra: JsonObject;

  constructor(error: string, extra: JsonObject = {}) {
    super(error);
    this.name = 'SlackApiError';
    this.error = error;
    this.extra = extra;
  }
}

/** `invalid_arguments` with Slack's `response_metadata.messages` (`[ERROR] …`). */
export function invalidArguments(...messages: string[]): SlackApiError {
  return new SlackApiError('invalid_arguments', {
    response_metadata: { messages: messages.map((m) => `[ERROR] ${m}`) },
  });
}
