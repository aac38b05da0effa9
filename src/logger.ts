/** A small levelled logger on stderr. Callers never pass tokens; `error` values are reduced to their message. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, detail?: unknown): void;
  info(message: string, detail?: unknown): void;
  warn(message: string, detail?: unknown): void;
  error(message: string, detail?: unknown): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Logger {
  const log = (at: LogLevel) => (message: string, detail?: unknown) => {
    if (ORDER[at] < ORDER[level]) return;
    const suffix = detail === undefined ? '' : ` ${describe(detail)}`;
    write(`${new Date().toISOString()} ${at.toUpperCase()} ${message}${suffix}`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function describe(detail: unknown): string {
  if (detail instanceof Error) {
    const code = (detail as { code?: unknown }).code;
    return `${detail.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${detail.message}`;
  }
  try {
    return JSON.stringify(detail);
  } catch {
    return String(detail);
  }
}
