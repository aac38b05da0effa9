import { expect, test } from 'vitest';

test('runs on Node 22.13 or newer', () => {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  expect(major > 22 || (major === 22 && minor >= 13)).toBe(true);
});
