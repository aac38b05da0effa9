import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { buildForm, checkValue, type Form, readSubmission, stateFromInitial } from '../../src/forms/index.ts';
import { SLACK_LIMITS } from '../../src/slack/limits.ts';
import { bigSpecArb, rootSchema, rootSpecArb, specWithData } from './arbitraries.ts';

type Element = Form['blocks'][number]['element'];
type AnyOption = { text: { text: string }; value?: string };

/** Every Slack limit a modal's input blocks must respect (docs/slack.md, Modal limits, Input elements and options). */
function expectWithinLimits(form: Form, maxBlocks: number): void {
  expect(form.blocks.length).toBeLessThanOrEqual(maxBlocks);
  expect(form.blocks.length + (SLACK_LIMITS.modalBlocks - maxBlocks)).toBeLessThanOrEqual(
    SLACK_LIMITS.modalBlocks,
  );
  expect(form.fields.map((f) => f.blockId)).toEqual(form.blocks.map((b) => b.block_id));
  const ids = form.blocks.map((b) => b.block_id as string);
  expect(new Set(ids).size).toBe(ids.length);
  for (const block of form.blocks) {
    expect(block.block_id!.length).toBeGreaterThan(0);
    expect(block.block_id!.length).toBeLessThanOrEqual(SLACK_LIMITS.blockId);
    expect(block.label.text.length).toBeGreaterThan(0);
    expect(block.label.text.length).toBeLessThanOrEqual(SLACK_LIMITS.label);
    if (block.hint) expect(block.hint.text.length).toBeLessThanOrEqual(SLACK_LIMITS.hint);
    expectElementWithinLimits(block.element);
  }
}

function expectElementWithinLimits(el: Element): void {
  expect(el.action_id!.length).toBeLessThanOrEqual(SLACK_LIMITS.actionId);
  if ('placeholder' in el && el.placeholder) {
    expect(el.placeholder.text.length).toBeLessThanOrEqual(SLACK_LIMITS.placeholder);
  }
  const options = 'options' in el && el.options ? (el.options as AnyOption[]) : undefined;
  if (options) {
    const max =
      el.type === 'radio_buttons'
        ? SLACK_LIMITS.radioOptions
        : el.type === 'checkboxes'
          ? SLACK_LIMITS.checkboxOptions
          : SLACK_LIMITS.selectOptions;
    expect(options.length).toBeGreaterThan(0);
    expect(options.length).toBeLessThanOrEqual(max);
    for (const o of options) {
      expect(o.text.text.length).toBeGreaterThan(0);
      expect(o.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.optionText);
      expect(o.value!.length).toBeGreaterThan(0);
      expect(o.value!.length).toBeLessThanOrEqual(SLACK_LIMITS.optionValue);
    }
    expect(new Set(options.map((o) => o.value)).size).toBe(options.length);
    if ('initial_option' in el && el.initial_option) expect(options).toContainEqual(el.initial_option);
    if ('initial_options' in el && el.initial_options) {
      expect(el.initial_options.length).toBeGreaterThan(0);
      for (const o of el.initial_options) expect(options).toContainEqual(o);
    }
  }
  if (el.type === 'plain_text_input') {
    if (el.max_length !== undefined) expect(el.max_length).toBeLessThanOrEqual(SLACK_LIMITS.textInputLength);
    if (el.min_length !== undefined)
      expect(el.min_length).toBeLessThanOrEqual(el.max_length ?? SLACK_LIMITS.textInputLength);
  }
  if (el.type === 'number_input') {
    const min = el.min_value === undefined ? undefined : Number(el.min_value);
    const max = el.max_value === undefined ? undefined : Number(el.max_value);
    for (const v of [min, max, el.initial_value === undefined ? undefined : Number(el.initial_value)]) {
      if (v !== undefined) expect(Number.isFinite(v)).toBe(true);
    }
    if (min !== undefined && max !== undefined) expect(min).toBeLessThanOrEqual(max);
    if (el.initial_value !== undefined) expect(el.initial_value).not.toMatch(/e/i);
  }
  if (el.type === 'datetimepicker' && el.initial_date_time !== undefined) {
    expect(String(el.initial_date_time)).toMatch(/^\d{10}$/);
  }
}

describe('generated schemas stay within Slack limits', () => {
  test('ordinary schemas, with and without initial data', () => {
    fc.assert(
      fc.property(specWithData(rootSpecArb), fc.integer({ min: 1, max: 95 }), ({ spec, data }, maxBlocks) => {
        const schema = rootSchema(spec);
        expectWithinLimits(buildForm(schema), 95);
        expectWithinLimits(buildForm(schema, { initial: data, maxBlocks }), maxBlocks);
      }),
      { numRuns: 150 },
    );
  });

  test('wide, deep and long-titled schemas degrade instead of overflowing', () => {
    fc.assert(
      fc.property(bigSpecArb, (spec) => {
        const form = buildForm(rootSchema(spec));
        expectWithinLimits(form, 95);
      }),
      { numRuns: 60 },
    );
  });
});

describe('typed data → form → untouched state → readSubmission gives the data back', () => {
  /*
   * Canonical data only (arbitraries.ts). Normalizations the form applies on purpose, each covered by
   * a unit test instead: empty optional text/selection → absent; optional nullable left empty → absent;
   * an optional object with nothing entered → absent; multi-selects come back in schema order without
   * duplicates; datetimes come back as UTC whole seconds; times as HH:MM (or the first spelling the
   * schema accepts); -0 → 0. Defaults are applied, so the expectation is zod's parse of the data.
   */
  test('round trip', () => {
    fc.assert(
      fc.property(specWithData(rootSpecArb), fc.integer({ min: 1, max: 95 }), ({ spec, data }, maxBlocks) => {
        const schema = rootSchema(spec);
        const parsed = checkValue(schema, data);
        if (parsed === null || !parsed.ok) throw new Error('the data does not fit its schema');
        const form = buildForm(schema, { initial: data, maxBlocks });
        // A value longer than Slack lets an input hold is left out of the form (with a hint saying
        // so, tested on its own): an untouched form cannot give it back.
        fc.pre(!JSON.stringify(form.blocks).includes('is too long to show here'));
        const result = readSubmission(schema, stateFromInitial(form), { maxBlocks });
        expect(result).toEqual({ ok: true, data: parsed.data });
      }),
      { numRuns: 150 },
    );
  });
});
