/** A plain object (not null, not an array): what JSON calls an object. Narrows to a record of unknowns. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
