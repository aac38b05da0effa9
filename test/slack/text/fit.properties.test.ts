/**
 * Every payload Flowgate sends to Slack, rendered from generated hostile data (huge, many, unicode,
 * emoji, mentions and mrkdwn in names, ids near and past the limits), passes the Slack emulator's own
 * validation: the blocks and views Slack would accept, the total Slack counts for
 * `msg_blocks_too_long`, the view size for `view_too_large`, unique block ids.
 */
import type { KnownBlock, View } from '@slack/types';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  blocksTextLength,
  DEFAULT_LIMITS,
  formatIssue,
  validateMessageBlocks,
  validateView,
} from '../../../src/emulator/index.ts';
import {
  type JsonSchema,
  RUN_STATUSES,
  type RunSnapshot,
  type StepSnapshot,
  type WorkflowInfo,
} from '../../../src/mastra/types.ts';
import { encodeSuspensionRef } from '../../../src/slack/ids.ts';
import {
  renderHelp,
  renderNotice,
  renderRunList,
  renderWorkflowList,
} from '../../../src/slack/render/commands.ts';
import { answerFormView, loadingView, noticeView, startFormView } from '../../../src/slack/render/modals.ts';
import type { ProgressView } from '../../../src/slack/render/progress-view.ts';
import { renderProgress, renderStatus } from '../../../src/slack/render/run-message.ts';
import { safeText } from '../../../src/slack/text/mrkdwn.ts';
import { stateSchemaOf } from '../../../src/slack/usecases/start-state.ts';
import { rootSchema, rootSpecArb } from '../../forms/arbitraries.ts';

// ---------------------------------------------------------------------------------------------
// What Slack accepts

const L = DEFAULT_LIMITS;
/** Flowgate's own margin below Slack's undocumented ~12k, counting every string (ids and values too). */
const MESSAGE_BUDGET = 11_000;

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

/** mrkdwn text objects anywhere in a payload. */
function mrkdwnTexts(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) mrkdwnTexts(v, out);
  else if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (obj.type === 'mrkdwn' && typeof obj.text === 'string') out.push(obj.text);
    for (const v of Object.values(obj)) mrkdwnTexts(v, out);
  }
  return out;
}

/** Text that is well-formed wherever it was cut, and cannot ping anyone. */
function expectSaneText(payload: unknown, extraMrkdwn: string[] = []): void {
  for (const s of strings(payload))
    expect(s.isWellFormed(), `lone surrogate in ${JSON.stringify(s)}`).toBe(true);
  for (const text of [...mrkdwnTexts(payload), ...extraMrkdwn]) {
    expect(text).not.toMatch(/<!(channel|here|everyone)>/);
    // Every & starts an entity: none was cut in half.
    expect(text.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
    // Code fences come in pairs: a cut never leaves the rest of the message inside one.
    expect((text.split('```').length - 1) % 2, `unclosed fence in ${JSON.stringify(text)}`).toBe(0);
  }
}

function expectMessageFits(message: { text: string; blocks?: KnownBlock[] }): void {
  expect(message.text.length).toBeLessThanOrEqual(L.textTruncate);
  if (message.blocks === undefined) {
    expect(message.text.length).toBeGreaterThan(0);
    expectSaneText([], [message.text]);
    return;
  }
  expect(validateMessageBlocks(message.blocks, L).map(formatIssue)).toEqual([]);
  expect(blocksTextLength(message.blocks)).toBeLessThanOrEqual(L.blocksTotalText);
  expect(strings(message.blocks).reduce((n, s) => n + s.length, 0)).toBeLessThanOrEqual(MESSAGE_BUDGET);
  expect(message.blocks.length).toBeGreaterThan(0);
  expectSaneText(message.blocks, [message.text]);
}

function expectViewFits(view: View): void {
  expect(validateView(view, L).map(formatIssue)).toEqual([]);
  expect(Buffer.byteLength(JSON.stringify(view))).toBeLessThanOrEqual(L.viewBytes);
  expectSaneText(view);
}

// ---------------------------------------------------------------------------------------------
// Hostile data

const NASTY = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U0EMU0001>',
  '<https://evil.example|click>',
  '&amp;',
  '&',
  '<',
  '>',
  '```',
  '`',
  '*',
  '_',
  '~',
  '|',
  ':x:',
  '\n',
  '😀',
  '👩‍👩‍👧‍👦',
  '🇫🇷',
  'é',
  'ﷺ',
  '\u200d',
  'ᄀ',
];

const piece = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }) },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/) },
);

/** Text of `min`–`max` characters made of hostile pieces. */
function longText(min: number, max: number): fc.Arbitrary<string> {
  return fc.tuple(fc.array(piece, { minLength: 1, maxLength: 4 }), fc.integer({ min, max })).map(([p, n]) => {
    const unit = p.join('');
    // Cut by code points: the input is well-formed, so any lone surrogate in the output is a bad cut.
    return unit
      .repeat(Math.ceil(n / unit.length))
      .slice(0, n)
      .toWellFormed();
  });
}

/** Text of any size up to `max`: mostly short, sometimes near Slack's limits, sometimes far past them. */
function text(max: number): fc.Arbitrary<string> {
  const short = fc.array(piece, { minLength: 1, maxLength: 6 }).map((p) => p.join(''));
  return fc.oneof({ weight: 4, arbitrary: short }, { weight: 1, arbitrary: longText(1, max) });
}

/** Ids: short, around 255 (block id limit), around 2000 (button value limit). */
const id = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/) },
  { weight: 2, arbitrary: text(40) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(230, 241, 250, 255, 260, 1990, 2100), fc.string({ maxLength: 3 }))
      .map(([n, tail]) => `${'s'.repeat(n)}${tail}`),
  },
);

/** Permalinks as Slack makes them (a workspace name of any length). */
const permalink = fc
  .tuple(fc.stringMatching(/^[a-z0-9-]{1,200}$/), fc.stringMatching(/^C[A-Z0-9]{8,10}$/), fc.nat())
  .map(([team, channel, ts]) => `https://${team}.slack.com/archives/${channel}/p${ts}`);

const userId = fc.oneof(
  fc.stringMatching(/^U[A-Z0-9]{2,10}$/),
  fc.constantFrom('<!channel>', 'not-a-user', 'W123&<>'),
);
const date = fc.date({ min: new Date(0), max: new Date(4_000_000_000_000), noInvalidDate: true });
const value: fc.Arbitrary<unknown> = fc.oneof(
  text(4000),
  fc.integer(),
  fc.dictionary(text(30), text(3000), { maxKeys: 15 }),
  fc.array(text(500), { maxLength: 20 }),
);

const stepArb = (stepId: string) =>
  fc
    .record(
      {
        status: fc.constantFrom(...RUN_STATUSES),
        startedAt: date,
        endedAt: date,
        writerOutput: value,
        error: text(5000).map((message) => ({ message })),
        suspendPayload: fc.dictionary(text(60), value, { maxKeys: 14 }),
        progress: fc.record({ completed: fc.nat(100), total: fc.nat(100) }),
      },
      { requiredKeys: ['status'] },
    )
    .map((s): StepSnapshot => ({ id: stepId, ...s }));

/** Step ids: independent, or parallel branches sharing a long prefix. */
const stepIds = fc.oneof(
  fc.uniqueArray(id, { maxLength: 60 }),
  fc
    .tuple(
      fc.constantFrom(200, 241, 254, 300, 2050),
      fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), { minLength: 2, maxLength: 12 }),
    )
    .map(([n, tails]) => tails.map((t) => `${'p'.repeat(n)}${t}`)),
);

const progressViewArb: fc.Arbitrary<ProgressView> = stepIds
  .chain((ids) =>
    fc.record({
      steps: ids.length > 0 ? fc.tuple(...ids.map(stepArb)) : fc.constant([] as StepSnapshot[]),
      suspended: fc.subarray(ids, { maxLength: Math.min(12, ids.length) }),
      nested: fc.boolean(),
      status: fc.constantFrom(...RUN_STATUSES),
      runId: id,
      workflow: fc.record({ key: id, name: text(400) }),
      starterId: fc.option(userId),
      startedAt: date,
      canceledBy: fc.option(userId, { nil: undefined }),
      result: fc.option(value, { nil: undefined }),
      error: fc.option(text(6000), { nil: undefined }),
      notice: fc.option(text(3000), { nil: undefined }),
      answers: fc.dictionary(text(300), fc.record({ userId, at: date, summary: text(1000) }), {
        maxKeys: 10,
      }),
      answerers: fc.record({
        kind: fc.constantFrom('starter' as const, 'admins' as const, 'approvers' as const),
        users: fc.array(userId, { maxLength: 30 }),
        groups: fc.array(fc.oneof(fc.stringMatching(/^S[A-Z0-9]{2,8}$/), text(20)), { maxLength: 5 }),
        starterRefused: fc.boolean(),
        nobody: fc.option(text(700), { nil: undefined }),
      }),
      yesNo: fc.boolean(),
    }),
  )
  .map((g) => {
    // Nested paths, or `.foreach()` iterations (each its own question) when not nested.
    const suspended = g.suspended.map((s, i) => {
      const step = g.steps.find((st) => st.id === s);
      return {
        path: g.nested ? [s, `${s}-inner`] : [s],
        ...(g.nested || i % 2 === 0 ? {} : { forEachIndex: i, forEachTotal: g.suspended.length }),
        suspendedAt: step?.suspendedAt ?? g.startedAt,
        ...(step?.suspendPayload ? { payload: step.suspendPayload } : {}),
        ...(i % 3 === 1 ? { resumeLabel: `${s} `.repeat(40) } : {}),
      };
    });
    const snapshot: RunSnapshot = {
      runId: g.runId,
      eventTimestamp: g.startedAt,
      payload: {
        currentStep: null,
        workflowState: {
          status: g.status,
          steps: Object.fromEntries(g.steps.map((s) => [s.id, s])),
          suspended,
          ...(g.result === undefined ? {} : { result: g.result }),
          ...(g.error === undefined ? {} : { error: { message: g.error } }),
        },
      },
    };
    return {
      workflow: g.workflow,
      snapshot,
      starterId: g.starterId,
      startedAt: g.startedAt,
      ...(g.canceledBy === undefined ? {} : { canceledBy: g.canceledBy }),
      ...(g.notice === undefined ? {} : { notice: g.notice }),
      answers: g.answers,
      suspensions: Object.fromEntries(
        suspended.map(({ path: p }) => [
          p.join('.'),
          {
            answerers: {
              kind: g.answerers.kind,
              users: g.answerers.users,
              groups: g.answerers.groups,
              starterRefused: g.answerers.starterRefused,
              ...(g.answerers.nobody === undefined ? {} : { nobody: g.answerers.nobody }),
            },
            yesNo: g.yesNo,
          },
        ]),
      ),
    };
  });

const workflowArb = (description: fc.Arbitrary<string>) =>
  fc.record(
    { key: id, id: fc.oneof(id, text(300)), description, stepCount: fc.nat(500) },
    { requiredKeys: ['key', 'id'] },
  );
/** A few workflows, or a large catalog with long descriptions (many pages). */
const workflowsArb = fc.oneof(
  fc.uniqueArray(workflowArb(text(6000)), { maxLength: 10, selector: (w) => w.key }),
  fc.uniqueArray(workflowArb(fc.oneof(text(200), longText(300, 3000))), {
    minLength: 40,
    maxLength: 160,
    selector: (w) => w.key,
  }),
);

/** Schemas from the form engine's generators, with defaults far past what a text input can hold. */
const hugeDefault = fc.oneof(
  longText(2990, 6000),
  fc.array(fc.record({ name: text(2000), n: fc.integer() }), { maxLength: 8 }),
  fc.dictionary(text(20), fc.integer(), { maxKeys: 600 }),
);

function withDefaults(schema: JsonSchema, defaults: readonly unknown[]): JsonSchema {
  let i = 0;
  const next = () => defaults[i++ % defaults.length];
  const walk = (s: unknown): unknown => {
    if (s === null || typeof s !== 'object' || Array.isArray(s)) return s;
    const out: Record<string, unknown> = { ...(s as Record<string, unknown>) };
    if (out.properties && typeof out.properties === 'object') {
      const props: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(out.properties as Record<string, unknown>)) {
        Object.defineProperty(props, k, {
          value: walk(v),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      out.properties = props;
      return out;
    }
    if (defaults.length === 0) return out;
    const d = next();
    const wantsString = out.type === 'string' && out.enum === undefined && out.format === undefined;
    if (wantsString && typeof d === 'string') out.default = d;
    else if (!wantsString && out.type !== 'string' && typeof d !== 'string') out.default = d;
    return out;
  };
  return walk(schema) as JsonSchema;
}

/** A schema whose every property has a default too long for Slack (text, JSON lists, JSON maps). */
const defaultsSchemaArb = fc
  .tuple(
    fc.uniqueArray(
      fc.tuple(id, hugeDefault, fc.option(text(2500)), fc.option(fc.integer({ min: 1, max: 5000 }))),
      {
        minLength: 1,
        maxLength: 6,
        selector: ([key]) => key,
      },
    ),
    fc.boolean(),
  )
  .map(([props, required]): JsonSchema => {
    const properties: Record<string, unknown> = {};
    for (const [key, dflt, description, maxLength] of props) {
      const base: JsonSchema =
        typeof dflt === 'string'
          ? { type: 'string', ...(maxLength === null ? {} : { maxLength }) }
          : Array.isArray(dflt)
            ? {
                type: 'array',
                items: { type: 'object', properties: { name: { type: 'string' }, n: { type: 'integer' } } },
              }
            : { type: 'object', additionalProperties: { type: 'integer' } };
      Object.defineProperty(properties, key, {
        value: { ...base, default: dflt, ...(description === null ? {} : { description }) },
        enumerable: true,
      });
    }
    return { type: 'object', properties, ...(required ? { required: props.map(([k]) => k) } : {}) };
  });

const schemaArb = fc.oneof(
  fc
    .tuple(rootSpecArb, fc.array(hugeDefault, { minLength: 1, maxLength: 4 }))
    .map(([spec, defaults]) => withDefaults(rootSchema(spec), defaults)),
  defaultsSchemaArb,
);

function workflowInfo(name: string, description: string, inputSchema: JsonSchema): WorkflowInfo {
  return { name, description, steps: {}, allSteps: {}, stepGraph: [], inputSchema };
}

// ---------------------------------------------------------------------------------------------

describe('every payload fits Slack, whatever the workflows contain', () => {
  test('progress messages and status replies', () => {
    fc.assert(
      fc.property(progressViewArb, fc.option(permalink, { nil: undefined }), (view, permalink) => {
        const message = renderProgress(view);
        expectMessageFits(message);
        // Block ids stay unique (checked above) even where step ids share a long prefix, and refs
        // are short handles whatever the ids: every suspended step shown that someone may answer
        // keeps its Respond button.
        const { payload } = view.snapshot;
        const refs = payload.workflowState.suspended.map((s) => encodeSuspensionRef(view.snapshot.runId, s));
        expect(refs.every((r) => r.length <= 80)).toBe(true);
        const answerable = Object.values(view.suspensions ?? {}).every(
          (i) => i.answerers.nobody === undefined,
        );
        if (answerable) {
          const values = message.blocks.flatMap((b) =>
            b.type === 'actions' ? b.elements.map((e) => (e as { value?: string }).value) : [],
          );
          for (const ref of refs.slice(0, 6)) expect(values).toContain(ref);
        }
        expectMessageFits(renderStatus(view, permalink));
      }),
      { numRuns: 120 },
    );
  });

  test('the workflow list: every page fits, and the pages show every workflow once', () => {
    fc.assert(
      fc.property(
        workflowsArb,
        fc.constantFrom('/flowgate', '/fg', '/a-very-long-command-name'),
        (items, command) => {
          const shown: string[] = [];
          for (let page = 1; page <= items.length + 1; page++) {
            const reply = renderWorkflowList(items, { page, command });
            expectMessageFits(reply);
            const blocks = reply.blocks ?? [];
            const sections = blocks.filter(
              (b) => b.type === 'section' && b.text !== undefined && !/^\*\d+ workflows?\*/.test(b.text.text),
            );
            if (sections.length === 0 || !JSON.stringify(blocks).includes('workflow')) break;
            shown.push(...sections.map((b) => (b.type === 'section' ? (b.text?.text ?? '') : '')));
            const next = JSON.stringify(blocks).includes(`${command} list ${page + 1}`);
            if (!next) break;
            expect(JSON.stringify(blocks)).toMatch(new RegExp(`… and ${items.length - shown.length} more`));
          }
          if (items.length > 0) {
            expect(shown).toHaveLength(items.length);
            const past = renderWorkflowList(items, { page: 1000, command });
            expectMessageFits(past);
            expect(past.text).toContain('There is no page 1000');
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('run lists, help and notices', () => {
    const run = fc.record(
      {
        runId: id,
        status: fc.constantFrom(...RUN_STATUSES),
        starter: fc.option(userId),
        createdAt: date,
        permalink,
      },
      { requiredKeys: ['runId', 'status', 'starter', 'createdAt'] },
    );
    fc.assert(
      fc.property(
        text(400),
        fc.array(run, { maxLength: 15 }),
        fc.nat(10_000),
        fc.option(text(100), { nil: undefined }),
        text(60),
        text(8000),
        (name, runs, extra, status, verb, notice) => {
          expectMessageFits(renderRunList(name, runs, runs.length + extra, status));
          expectMessageFits(renderHelp('/flowgate', verb));
          expectMessageFits(renderHelp(verb));
          expectMessageFits(renderNotice(safeText(notice, 20_000)));
        },
      ),
      { numRuns: 100 },
    );
  });

  test('start and answer forms, with defaults too long for their inputs, and notice modals', () => {
    fc.assert(
      fc.property(
        schemaArb,
        id,
        text(600),
        text(3000),
        fc.array(id, { minLength: 1, maxLength: 3 }),
        fc.option(fc.dictionary(text(60), value, { maxKeys: 14 }), { nil: undefined }),
        (schema, key, name, description, path, payload) => {
          const info = workflowInfo(name, description, schema);
          expectViewFits(startFormView(info, stateSchemaOf(info)));
          expectViewFits(
            answerFormView(
              info,
              `run-${key}`,
              { path, suspendedAt: new Date(0), ...(payload ? { payload } : {}), resumeLabel: name },
              schema,
            ),
          );
          expectViewFits(noticeView(name, safeText(description, 20_000)));
          expectViewFits(loadingView());
        },
      ),
      { numRuns: 60 },
    );
  });
});
