import { invalidArguments, SlackApiError } from './errors.ts';
import type { JsonObject } from './types.ts';

/** Fields @slack/web-api sends JSON-encoded inside form bodies. */
export const JSON_FIELDS: ReadonlySet<string> = new Set([
  'blocks',
  'attachments',
  'view',
  'metadata',
  'unfurls',
  'user_auth_blocks',
]);

/**
 * Normalizes raw request fields: JSON-encoded fields (`blocks`, `view`, …) are parsed when they are strings;
 * an unparseable one stays a string (handlers turn that into the right error).
 */
export function normalizeParams(raw: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(raw)) {
    if (JSON_FIELDS.has(key) && typeof value === 'string') {
      try {
        out[key] = JSON.parse(value);
      } catch {
        out[key] = value;
      }
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Typed access to a method's arguments (form values arrive as strings). */
export class Params {
  readonly raw: JsonObject;

  constructor(raw: JsonObject) {
    this.raw = raw;
  }

  has(name: string): boolean {
    const value = this.raw[name];
    return value !== undefined && value !== null && value !== '';
  }

  string(name: string): string | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return undefined;
  }

  /** A required string argument; absent/empty → `invalid_arguments` (or the given error). */
  required(name: string, error?: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') {
      throw error === undefined
        ? invalidArguments(`missing required field: ${name}`)
        : new SlackApiError(error);
    }
    return value;
  }

  bool(name: string): boolean {
    const value = this.raw[name];
    return value === true || value === 1 || value === 'true' || value === '1';
  }

  int(name: string): number | undefined {
    const value = this.raw[name];
    if (value === undefined || value === null || value === '') return undefined;
    const n = typeof value === 'number' ? value : Number.parseInt(String(value), 10);
    return Number.isFinite(n) ? n : undefined;
  }
}
