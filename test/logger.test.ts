import { describe, expect, test } from 'vitest';
import { boltLogger, createJsonLogger, createLogger, prettyLine, runFields, scrub } from '../src/logger.ts';

function capture(options: Parameters<typeof createJsonLogger>[0] = {}) {
  const lines: string[] = [];
  const logger = createJsonLogger({ level: 'debug', ...options, write: (line) => lines.push(line) });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('the JSON logger', () => {
  test('one JSON object a line: level, time, msg, the fields, the error reduced to what helps', () => {
    const { logger, records } = capture({ fields: { replica: 'r-1' } });
    const failure = Object.assign(new Error('no answer'), { code: 'unavailable', status: 503 });
    logger.warn(
      'run run-1: stuck',
      failure,
      runFields({ runId: 'run-1', workflowKey: 'deploy', starterId: 'U1' }),
    );
    const [record] = records();
    expect(record).toMatchObject({
      level: 'warn',
      msg: 'run run-1: stuck',
      replica: 'r-1',
      runId: 'run-1',
      workflow: 'deploy',
      user: 'U1',
      error: { type: 'Error', code: 'unavailable', status: 503, message: 'no answer' },
    });
    expect(new Date(String(record?.time)).toISOString()).toBe(record?.time);
    expect(JSON.stringify(record)).not.toContain('stack');
  });

  test('below its level nothing is written', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.info('hello');
    logger.debug('hello');
    expect(lines).toEqual([]);
  });

  test('secrets redacted by key and by value, in the message, the detail and the error', () => {
    const { logger, lines } = capture({ secrets: ['s1gning-secret', 'pg-pass'] });
    logger.error('token xoxb-1-2-abc and xapp-1-A-2 and Bearer abc.def in postgres://app:pg-pass@db:5432/x', {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
      signingSecret: 'whatever',
      note: 'the s1gning-secret',
    });
    logger.warn('failed', new Error('reply: Authorization: Bearer mastra-token-1 from https://u:p4ss@host/'));
    const text = lines.join('\n');
    for (const secret of [
      'xoxb-1-2-abc',
      'xapp-1-A-2',
      'abc.def',
      'pg-pass',
      'dXNlcjpwYXNz',
      'whatever',
      's1gning-secret',
      'mastra-token-1',
      'p4ss',
    ])
      expect(text).not.toContain(secret);
    expect(text).toContain('postgres://app:[redacted]@db:5432/x');
  });

  test('pretty: one readable line a record', () => {
    const { logger, lines } = capture({ format: 'pretty' });
    logger.error('run r1: thread reply failed', Object.assign(new Error('boom'), { code: 'E1' }), {
      runId: 'r1',
      channel: 'C1',
    });
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} ERROR run r1: thread reply failed runId=r1 channel=C1 — Error \[E1\]: boom$/,
    );
    expect(prettyLine('not json')).toBe('not json');
  });
});

describe("Bolt's logger", () => {
  test('its lines come out as Flowgate’s, at LOG_LEVEL whatever Bolt sets', () => {
    const { logger, records } = capture();
    const bolt = boltLogger(logger, 'info');
    bolt.setName('bolt-app');
    bolt.setLevel('debug' as never);
    bolt.debug('not shown');
    bolt.warn('refused', { reason: 'signature' });
    bolt.error(new Error('socket closed'));
    expect(bolt.getLevel()).toBe('info');
    expect(records()).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: 'refused {"reason":"signature"}',
        component: 'bolt',
        name: 'bolt-app',
      }),
      expect.objectContaining({ level: 'error', msg: 'socket closed', component: 'bolt' }),
    ]);
  });
});

describe('the sandbox logger', () => {
  test('short human lines, fields as key=value', () => {
    const lines: string[] = [];
    createLogger('info', (l) => lines.push(l)).info('run r1: started', undefined, {
      runId: 'r1',
      note: 'two words',
    });
    expect(lines[0]).toMatch(/ INFO run r1: started runId=r1 note="two words"$/);
  });

  test('scrub leaves ordinary text alone', () => {
    expect(scrub('run 123 ended after 4 s')).toBe('run 123 ended after 4 s');
  });
});
