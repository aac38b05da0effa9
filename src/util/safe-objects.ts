/**
 * Objects built from outside keys (inputs typed in Slack, JSON, form values, step ids, policy names)
 * must never reach a prototype: writing `__proto__` would change what every object inherits, and
 * reading `constructor` from a plain object finds `Object` itself. These helpers read and write own
 * properties only.
 */

/** Keys that name a prototype (or reach one) when used on a plain object. Refused in inputs. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

export function isReservedKey(key: string): boolean {
  return RESERVED_KEYS.has(key);
}

/** A record with no prototype: nothing is inherited, and `__proto__` is an ordinary key. */
export function emptyRecord<V>(): Record<string, V> {
  return Object.create(null) as Record<string, V>;
}

/** `object[key]` when it is the object's own property, else undefined (never an inherited value). */
export function own<T extends object, K extends keyof T & string>(
  object: T | null | undefined,
  key: K,
): T[K] | undefined {
  return object !== null && object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Defines `record[key]` as an own, enumerable data property, whatever the key. */
export function setOwn<V>(record: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}

/** A prototype-free copy of a record (its own enumerable properties). */
export function copyRecord<V>(record: Readonly<Record<string, V>> | null | undefined): Record<string, V> {
  const copy = emptyRecord<V>();
  if (record) for (const key of Object.keys(record)) setOwn(copy, key, record[key] as V);
  return copy;
}

/** The path to the first reserved key anywhere inside a JSON-like value, or undefined when there is none. */
export function findReservedKey(
  value: unknown,
  path: readonly (string | number)[] = [],
): (string | number)[] | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findReservedKey(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const key of Object.keys(value)) {
    if (isReservedKey(key)) return [...path, key];
    const found = findReservedKey((value as Record<string, unknown>)[key], [...path, key]);
    if (found) return found;
  }
  return undefined;
}

/** The value at `path` in `value`, reading own properties only (never one inherited from a prototype). */
export function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
