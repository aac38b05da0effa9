import { describe, expect, test } from 'vitest';
import { type CatalogEntry, editDistance, matchWorkflow } from '../src/catalog.ts';

const entries: CatalogEntry[] = [
  { key: 'approvalWorkflow', id: 'approval-workflow', stepCount: 3 },
  { key: 'linearWorkflow', id: 'linear-workflow', stepCount: 3 },
  { key: 'noopWorkflow', id: 'noop', stepCount: 1 },
];

describe('matchWorkflow', () => {
  test('registry key or id, any case, with spaces around', () => {
    expect(matchWorkflow(entries, 'APPROVALWORKFLOW')).toEqual({ ok: true, entry: entries[0] });
    expect(matchWorkflow(entries, ' linear-workflow ')).toEqual({ ok: true, entry: entries[1] });
    expect(matchWorkflow(entries, 'Noop')).toEqual({ ok: true, entry: entries[2] });
  });

  test('a typo or a part of a name suggests the closest workflow', () => {
    expect(matchWorkflow(entries, 'aproval-workflow')).toEqual({ ok: false, suggestion: entries[0] });
    expect(matchWorkflow(entries, 'linear')).toEqual({ ok: false, suggestion: entries[1] });
    expect(matchWorkflow(entries, 'noopWorkflows')).toEqual({ ok: false, suggestion: entries[2] });
  });

  test('nothing close: no suggestion; no workflows at all: no suggestion', () => {
    expect(matchWorkflow(entries, 'invoice-sync')).toEqual({ ok: false });
    expect(matchWorkflow([], 'anything')).toEqual({ ok: false });
  });
});

test('editDistance counts insertions, deletions and substitutions', () => {
  expect(editDistance('', '')).toBe(0);
  expect(editDistance('kitten', 'sitting')).toBe(3);
  expect(editDistance('abc', '')).toBe(3);
  expect(editDistance('flaw', 'lawn')).toBe(2);
});
