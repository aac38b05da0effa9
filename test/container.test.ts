/**
 * The container recipe's must-haves, read from the files themselves (no container engine here;
 * test/e2e/container.test.ts installs and starts Flowgate as the image would).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '..');

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions (continuation lines joined, comments dropped), `ARG` defaults applied to `FROM`. */
function dockerfile(text: string): Instruction[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/);
      return { op: op.toUpperCase(), args: rest.join(' ') };
    });
}

const instructions = dockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const stages = instructions.reduce<Instruction[][]>((all, i) => {
  if (i.op === 'FROM') all.push([]);
  all.at(-1)?.push(i);
  return all;
}, []);
const final = stages.at(-1) ?? [];

describe('Dockerfile', () => {
  test('multi-stage, on a Node ≥ 22.13 image, production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const image = instructions.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='))?.args;
    const major = Number(/node:(\d+)/.exec(image ?? '')?.[1]);
    expect(major).toBeGreaterThanOrEqual(24); // type stripping without a flag: the project's Node 24
    const installs = instructions.filter((i) => i.op === 'RUN' && /\bnpm (ci|install)\b/.test(i.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.args).toMatch(/npm ci .*--omit=dev/);
    // The final stage takes node_modules from a stage, never installs anything itself.
    expect(
      final.some((i) => i.op === 'COPY' && i.args.includes('--from=') && i.args.includes('node_modules')),
    ).toBe(true);
    expect(final.some((i) => i.op === 'RUN' && /\bnpm\b/.test(i.args))).toBe(false);
  });

  test('runs as a user that is not root, node src/main.ts in exec form, with a HEALTHCHECK', () => {
    const user = final.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    const cmd = final.filter((i) => i.op === 'CMD').at(-1)?.args ?? '';
    expect(JSON.parse(cmd)).toEqual(['node', 'src/main.ts']);
    const check = final.find((i) => i.op === 'HEALTHCHECK')?.args ?? '';
    const form = /\bCMD (\[.*\])$/.exec(check)?.[1];
    const argv = JSON.parse(form ?? 'null') as string[];
    expect(argv[0]).toBe('node');
    expect(argv.join(' ')).toContain('/healthz');
  });

  test('.dockerignore lets in package.json, package-lock.json and src/ only', () => {
    const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(lines).toEqual(['*', '!package.json', '!package-lock.json', '!src/']);
  });

  test('compose.yaml: PostgreSQL and two replicas of Flowgate on it', () => {
    const compose = parse(readFileSync(join(ROOT, 'compose.yaml'), 'utf8')) as {
      services: Record<
        string,
        { image?: string; environment?: Record<string, string>; deploy?: { replicas?: number } }
      >;
    };
    expect(compose.services.db?.image).toMatch(/^postgres:/);
    expect(compose.services.flowgate?.deploy?.replicas).toBe(2);
    expect(compose.services.flowgate?.environment?.FLOWGATE_DB).toMatch(/^postgres:\/\/.*@db:5432\//);
  });
});
