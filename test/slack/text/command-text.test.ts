import { describe, expect, test } from 'vitest';
import { parseCommand, parseInputs, splitInitialState } from '../../../src/slack/text/command-text.ts';

const schema = {
  type: 'object',
  properties: {
    amount: { type: 'number' },
    count: { type: 'integer' },
    urgent: { type: 'boolean' },
    name: { type: 'string' },
    code: { type: 'string' },
    address: { type: 'object', properties: { city: { type: 'string' }, zip: { type: 'integer' } } },
  },
};

describe('parseCommand', () => {
  test('empty text and help give help; unknown verbs give help naming the verb', () => {
    expect(parseCommand('', '/flowgate')).toEqual({ kind: 'help' });
    expect(parseCommand('  help ', '/flowgate')).toEqual({ kind: 'help' });
    expect(parseCommand('frobnicate x', '/flowgate')).toEqual({ kind: 'help', unknown: 'frobnicate' });
  });

  test('start keeps the raw input text after the workflow name', () => {
    expect(parseCommand('start approvalWorkflow {"amount": 5, "x": "a b"}', '/fg')).toEqual({
      kind: 'start',
      workflow: 'approvalWorkflow',
      inputs: '{"amount": 5, "x": "a b"}',
    });
    expect(parseCommand('START linear', '/fg')).toEqual({ kind: 'start', workflow: 'linear', inputs: '' });
  });

  test('missing arguments give a usage message naming the command', () => {
    const result = parseCommand('start', '/deploy');
    expect(result.kind).toBe('usage');
    expect(result.kind === 'usage' && result.message).toContain('/deploy start <workflow>');
    expect(parseCommand('cancel', '/fg').kind).toBe('usage');
    expect(parseCommand('status a b', '/fg').kind).toBe('usage');
  });

  test('list takes an optional page number; anything else gets a usage message', () => {
    expect(parseCommand('list', '/fg')).toEqual({ kind: 'list' });
    expect(parseCommand('list 2', '/fg')).toEqual({ kind: 'list', page: 2 });
    expect(parseCommand('ls 1', '/fg')).toEqual({ kind: 'list', page: 1 });
    for (const bad of ['list 0', 'list two', 'list -1', 'list 1.5', 'list 2 3', 'list 1234567']) {
      const result = parseCommand(bad, '/fg');
      expect(result).toEqual({
        kind: 'usage',
        message: '`/fg list` takes an optional page number, e.g. `/fg list 2`.',
      });
    }
  });

  test('runs with and without a status; status and cancel take a run id', () => {
    expect(parseCommand('runs linear', '/fg')).toEqual({ kind: 'runs', workflow: 'linear' });
    expect(parseCommand('runs linear Failed', '/fg')).toEqual({
      kind: 'runs',
      workflow: 'linear',
      status: 'failed',
    });
    expect(parseCommand('status run-1', '/fg')).toEqual({ kind: 'status', runId: 'run-1' });
    expect(parseCommand('cancel run-1', '/fg')).toEqual({ kind: 'cancel', runId: 'run-1' });
  });
});

describe('parseInputs', () => {
  test('nothing → undefined', () => {
    expect(parseInputs('  ', schema)).toEqual({ ok: true, value: undefined });
  });

  test('JSON, including typographic quotes from Slack clients', () => {
    expect(parseInputs('{"amount": 5}', schema)).toEqual({ ok: true, value: { amount: 5 } });
    expect(parseInputs('{\u201Camount\u201D: 5}', schema)).toEqual({ ok: true, value: { amount: 5 } });
  });

  test('bad JSON reports the parser message and the position', () => {
    const result = parseInputs('{"amount": 5,}', schema);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(/valid JSON: .*position 13/);
  });

  test('key=value pairs typed by the schema', () => {
    expect(
      parseInputs(
        'amount=5.5 count=3 urgent=yes name="Ada Lovelace" code=007 address.city=Paris address.zip=75001',
        schema,
      ),
    ).toEqual({
      ok: true,
      value: {
        amount: 5.5,
        count: 3,
        urgent: true,
        name: 'Ada Lovelace',
        code: '007',
        address: { city: 'Paris', zip: 75001 },
      },
    });
  });

  test('a quoted number stays a string only where the schema allows; bad numbers and booleans are named', () => {
    expect(parseInputs('amount=abc', schema)).toEqual({
      ok: false,
      message: '`amount` must be a number, not `abc`.',
    });
    expect(parseInputs('urgent=maybe', schema)).toEqual({
      ok: false,
      message: '`urgent` must be true or false, not `maybe`.',
    });
  });

  test('JSON values inside pairs, duplicates and malformed pairs', () => {
    expect(parseInputs('address={"city": "Oslo"} name=x', schema)).toEqual({
      ok: true,
      value: { address: { city: 'Oslo' }, name: 'x' },
    });
    expect(parseInputs('name=a name=b', schema)).toEqual({ ok: false, message: '`name` is given twice.' });
    const bad = parseInputs('amount', schema);
    expect(!bad.ok && bad.message).toContain('is not a `key=value` pair');
    const open = parseInputs('name="unterminated', schema);
    expect(!open.ok && open.message).toContain('no closing "');
  });

  test('without a schema, numbers and booleans are guessed', () => {
    expect(parseInputs('a=1 b=true c=hello', undefined)).toEqual({
      ok: true,
      value: { a: 1, b: true, c: 'hello' },
    });
  });
});

describe('inline inputs never reach a prototype', () => {
  const refused = /`(__proto__|prototype|constructor)` cannot be used as an input name/;

  test('reserved key segments are refused by name, in key=value and JSON alike', () => {
    for (const text of [
      '__proto__.isAdmin=true',
      'name=x __proto__=1',
      'address.__proto__.city=Paris',
      'constructor.prototype.polluted=yes',
      'a.prototype=1',
      'address={"__proto__": {"x": 1}}',
      '{"__proto__": {"x": 1}}',
      '{"ok": [{"deep": {"constructor": {"prototype": {"x": 1}}}}]}',
      '[{"prototype": 1}]',
    ]) {
      const result = parseInputs(text, schema);
      expect(result.ok, text).toBe(false);
      if (!result.ok) expect(result.message, text).toMatch(refused);
    }
    const nested = parseInputs('{"ok": {"inner": {"__proto__": 1}}}', schema);
    expect(nested.ok || nested.message).toContain('(inside `ok.inner`)');
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  test('key=value objects have no prototype and own keys only; names like toString are ordinary', () => {
    const result = parseInputs('toString=a valueOf.x=2 address.city=Paris hasOwnProperty=1', schema);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const value = result.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBeNull();
    expect(JSON.parse(JSON.stringify(value))).toEqual({
      toString: 'a',
      valueOf: { x: 2 },
      address: { city: 'Paris' },
      hasOwnProperty: 1,
    });
    // `in` would have found inherited names: a key that only exists on Object.prototype is not "given twice".
    expect(parseInputs('toString=a toString=b', schema)).toMatchObject({
      ok: false,
      message: '`toString` is given twice.',
    });
  });
});

describe('inputs that are one value', () => {
  test('any JSON value is taken as the whole input', () => {
    expect(parseInputs('"src/math.ts"', { type: 'string' })).toEqual({ ok: true, value: 'src/math.ts' });
    expect(parseInputs('42', { type: 'number' })).toEqual({ ok: true, value: 42 });
    expect(parseInputs('-1.5', undefined)).toEqual({ ok: true, value: -1.5 });
    expect(parseInputs('true', { type: 'boolean' })).toEqual({ ok: true, value: true });
    expect(parseInputs('null', { type: 'null' })).toEqual({ ok: true, value: null });
  });

  test('bare text for a string input; key=value pairs and errors as before for objects', () => {
    expect(parseInputs('src/math.ts', { type: 'string' })).toEqual({ ok: true, value: 'src/math.ts' });
    expect(parseInputs('name="a b"', schema)).toMatchObject({ ok: true });
    expect(parseInputs('hello', schema)).toMatchObject({
      ok: false,
      message: expect.stringContaining('is not a `key=value` pair'),
    });
    expect(parseInputs('"unclosed', { type: 'object' })).toMatchObject({ ok: false });
  });
});

describe('splitInitialState: state={…} last, after the inputs', () => {
  test('JSON or key=value inputs, then the state; no state leaves the text as it is', () => {
    expect(splitInitialState('{"title": "x"} state={"team": "ops"}')).toEqual({
      ok: true,
      inputs: '{"title": "x"}',
      state: { team: 'ops' },
    });
    expect(splitInitialState('title=x state={"team": {"name": "a b"}}')).toEqual({
      ok: true,
      inputs: 'title=x',
      state: { team: { name: 'a b' } },
    });
    expect(splitInitialState('state={\u201Cteam\u201D: \u201Cops\u201D}')).toEqual({
      ok: true,
      inputs: '',
      state: { team: 'ops' },
    });
    expect(splitInitialState('title=x')).toEqual({ ok: true, inputs: 'title=x', state: undefined });
    // Only a whole `state=` word: `mystate=` is an input.
    expect(splitInitialState('mystate={"a": 1}')).toEqual({
      ok: true,
      inputs: 'mystate={"a": 1}',
      state: undefined,
    });
  });

  test('anything else is a clear message', () => {
    expect(splitInitialState('title=x state=ops')).toMatchObject({
      ok: false,
      message: expect.stringContaining('JSON object'),
    });
    expect(splitInitialState('state={"a": 1')).toMatchObject({
      ok: false,
      message: expect.stringContaining('unclosed'),
    });
    expect(splitInitialState('state={"a": 1} title=x')).toMatchObject({
      ok: false,
      message: expect.stringContaining('last'),
    });
    expect(splitInitialState('state={"a": 1,}')).toMatchObject({
      ok: false,
      message: expect.stringContaining('valid JSON'),
    });
    expect(splitInitialState('state={"__proto__": {"x": 1}}')).toMatchObject({
      ok: false,
      message: expect.stringContaining('reserved'),
    });
  });
});
