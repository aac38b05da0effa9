/**
 * The project carries what it relies on in its own docs (docs/mastra.md and docs/slack.md), and its
 * comments and Markdown cite only what the repository has: every cited repository path exists, every
 * cited section (`docs/slack.md, Text limits`) is a heading of that document, every relative link and
 * anchor of a Markdown file resolves, and nothing cites documents outside the repository or issue
 * numbers. Plain file reads: comments are found by a small scanner that knows strings, template
 * literals and regular expressions, so a path inside a string is not taken for a citation.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CODE_DIRS = ['src', 'test', 'bench'];
const CODE_FILE = /\.(?:ts|js|mjs)$/;
const SKIP_DIRS = new Set(['node_modules', '.git', '.flowgate', 'test-artifacts']);

interface Text {
  text: string;
  line: number;
}

interface Problem {
  file: string;
  line: number;
  problem: string;
}

function walk(dir: string, keep: (path: string) => boolean, out: string[] = []): string[] {
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (SKIP_DIRS.has(entry.name)) continue;
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) walk(path, keep, out);
    else if (keep(path)) out.push(path);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comments of a JavaScript or TypeScript file

/** Where a `/` starts a regular expression rather than a division: after these, or at the start. */
const REGEX_AFTER = new Set('(,=:[!&|?{};+-*%<>~^'.split(''));
const REGEX_AFTER_WORDS = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'yield',
  'await',
]);

/** What the scanner stops at: a comment or regular expression, a string, a template, a brace. */
const INTERESTING = /[/'"`{}]/g;
const SINGLE = /'(?:\\.|[^'\\\n])*'?/y;
const DOUBLE = /"(?:\\.|[^"\\\n])*"?/y;
/** A regular expression literal from its `/`. */
const REGEX = /\/(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n[])*\/?[a-z]*/y;
/** Template text up to its end or the next `${`. */
const TEMPLATE_TEXT = /(?:\\[\s\S]|[^\\`$]|\$(?!\{))*/y;
const WORD_END = /[\w$]+$/;

/** The comments of `source` (`//` and `/* … *\/`), each with the line it starts on. */
function commentsOf(source: string): Text[] {
  const out: Text[] = [];
  let i = 0;
  let line = 1;
  let counted = 0; // `line` is the line at index `counted`; comments are found in order
  const lineAt = (at: number): number => {
    for (let k = source.indexOf('\n', counted); k !== -1 && k < at; k = source.indexOf('\n', k + 1)) line++;
    counted = at;
    return line;
  };
  const skip = (re: RegExp): void => {
    re.lastIndex = i;
    i += re.exec(source)?.[0].length || 1;
  };
  /** Whether the `/` at `i` starts a regular expression: by the code before it. */
  const startsRegex = (): boolean => {
    let k = i - 1;
    while (k >= 0 && /\s/.test(source[k]!)) k--;
    if (k < 0) return true;
    const before = source[k]!;
    if (REGEX_AFTER.has(before)) return true;
    const word = WORD_END.exec(source.slice(Math.max(0, k - 15), k + 1))?.[0];
    return word !== undefined && REGEX_AFTER_WORDS.has(word);
  };
  /** Code until the end, or (inside `${…}`) until its closing brace, which it consumes. */
  const code = (inTemplate: boolean): void => {
    let depth = 0;
    for (;;) {
      INTERESTING.lastIndex = i;
      const found = INTERESTING.exec(source);
      if (found === null) {
        i = source.length;
        return;
      }
      i = found.index;
      const c = found[0];
      const next = source[i + 1];
      if (c === '/' && (next === '/' || next === '*')) {
        const end = next === '/' ? source.indexOf('\n', i) : source.indexOf('*/', i + 2);
        const stop = end === -1 ? source.length : next === '/' ? end : end + 2;
        out.push({ text: source.slice(i, stop), line: lineAt(i) });
        i = stop;
      } else if (c === '/') {
        if (startsRegex()) skip(REGEX);
        else i++;
      } else if (c === "'") skip(SINGLE);
      else if (c === '"') skip(DOUBLE);
      else if (c === '`') {
        i++;
        for (;;) {
          TEMPLATE_TEXT.lastIndex = i;
          i += TEMPLATE_TEXT.exec(source)?.[0].length ?? 0;
          if (i >= source.length) break;
          if (source[i] === '`') {
            i++;
            break;
          }
          i += 2; // `${`
          code(true);
        }
      } else if (c === '{') {
        depth++;
        i++;
      } else {
        i++;
        if (inTemplate && depth === 0) return;
        depth--;
      }
    }
  };
  code(false);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Markdown headings and anchors

const headingCache = new Map<string, string[]>();

/** The headings of a Markdown file (outside fenced code), as written. */
function headingsOf(path: string): string[] {
  const cached = headingCache.get(path);
  if (cached) return cached;
  const headings: string[] = [];
  let fenced = false;
  for (const line of readFileSync(join(ROOT, path), 'utf8').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const match = fenced ? null : /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (match) headings.push(match[1]!);
  }
  headingCache.set(path, headings);
  return headings;
}

/** The anchor GitHub gives a heading. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

// ---------------------------------------------------------------------------------------------
// Citations

const OUTSIDE = /shared\/(?:mastra|slack)|\bCONTRACT\.md\b|\bLIMITS\.md\b/;
const ISSUE = /\bissues?\s+#?\d+/i;
const REPO_PATH = /(?<![\w./@-])(?:src|test|bench|docs|manifest)\/[\w./-]*/g;
const DOC_SECTIONS = /(?<![\w./@-])(docs\/[\w-]+\.md)(, |: )([^\n]*)/g;
const MD_LINK = /\]\(([^)\s]+)\)/g;

function exists(path: string): boolean {
  return existsSync(join(ROOT, path));
}

/** The sections cited after a document's path and ", " (one) or ": " (a list, comma-separated). */
function citedSections(separator: string, rest: string): string[] {
  const end = rest.search(separator === ', ' ? /[):;]|\.(\s|$)/ : /[);]|\.(\s|$)/);
  const list = (end === -1 ? rest : rest.slice(0, end)).replace(/[\s`"'*.]+$/, '');
  return list.split(', ').map((s) => s.trim());
}

/** What is wrong with the citations in `text` (a comment, or a Markdown file) of `file`. */
function problemsOf(file: string, texts: readonly Text[], markdown: boolean): Problem[] {
  const problems: Problem[] = [];
  for (const { text, line: first } of texts) {
    let fenced = false;
    text.split('\n').forEach((content, n) => {
      const line = first + n;
      const report = (problem: string) => problems.push({ file, line, problem });
      if (OUTSIDE.test(content)) report(`cites a document outside the repository: ${content.trim()}`);
      if (ISSUE.test(content)) {
        report(`cites an issue number (say what it meant instead): ${content.trim()}`);
      }
      for (const match of content.matchAll(REPO_PATH)) {
        const path = match[0].replace(/\.+$/, '');
        if (!exists(path)) report(`cites ${path}, which the repository does not have`);
      }
      for (const match of content.matchAll(DOC_SECTIONS)) {
        const [, doc, separator, rest] = match as unknown as [string, string, string, string];
        if (!exists(doc)) continue; // reported as a missing path
        const headings = headingsOf(doc);
        for (const section of citedSections(separator, rest)) {
          if (!headings.includes(section)) report(`cites "${section}" of ${doc}, which has no such heading`);
        }
      }
      if (!markdown) return;
      if (/^\s*(```|~~~)/.test(content)) fenced = !fenced;
      if (fenced) return;
      // Links, outside code: `[a-z](x)` in a code span is not one.
      for (const match of content.replace(/`[^`]*`/g, '').matchAll(MD_LINK)) {
        const target = match[1]!;
        if (/^[a-z]+:/i.test(target)) continue;
        const [pathPart = '', anchor] = target.split('#');
        const path = pathPart === '' ? file : normalize(join(dirname(file), pathPart));
        if (relative(ROOT, join(ROOT, path)).startsWith('..') || !exists(path)) {
          report(`links to ${target}, which the repository does not have`);
          continue;
        }
        if (
          anchor !== undefined &&
          path.endsWith('.md') &&
          !headingsOf(path).some((h) => slug(h) === anchor)
        ) {
          report(`links to ${target}, whose heading does not exist`);
        }
      }
    });
  }
  return problems;
}

function codeProblems(): Problem[] {
  const files = [
    ...CODE_DIRS.flatMap((dir) => walk(dir, (path) => CODE_FILE.test(path))),
    ...readdirSync(ROOT).filter((name) => CODE_FILE.test(name) && statSync(join(ROOT, name)).isFile()),
  ];
  return files.flatMap((file) => problemsOf(file, commentsOf(readFileSync(join(ROOT, file), 'utf8')), false));
}

function markdownProblems(): Problem[] {
  return walk('', (path) => path.endsWith('.md')).flatMap((file) =>
    problemsOf(file, [{ text: readFileSync(join(ROOT, file), 'utf8'), line: 1 }], true),
  );
}

const show = (problems: Problem[]) => problems.map((p) => `${p.file}:${p.line}: ${p.problem}`);

describe('the repository cites only what it has', () => {
  test('comments of src, test and bench', () => {
    expect(show(codeProblems())).toEqual([]);
  });

  test('Markdown files', () => {
    expect(show(markdownProblems())).toEqual([]);
  });

  test('docs/mastra.md describes every captured reply of test/support/mastra/fixtures, and only those', () => {
    const captures = readdirSync(join(ROOT, 'test/support/mastra/fixtures')).filter((f) =>
      f.endsWith('.http'),
    );
    const doc = readFileSync(join(ROOT, 'docs/mastra.md'), 'utf8');
    const named = new Set([...doc.matchAll(/\b\d+-[\w.-]+\.http\b/g)].map((m) => m[0]));
    expect(captures.filter((f) => !named.has(f))).toEqual([]);
    expect([...named].filter((f) => !captures.includes(f))).toEqual([]);
  });
});

describe('the citation check itself', () => {
  const source = [
    '// see src/nowhere.ts and docs/slack.md, No such section',
    "const s = 'src/in-a-string.ts /* not a comment */';",
    'const r = /\\/\\/ src\\/in-a-regex.ts/;',
    'const t = `src/$' + '{"x"}/in-a-template.ts // still a string`;',
    '/** cites ../shared/mastra/CONTRACT.md, issue 13 and src/mastra/client.ts (docs/mastra.md, Cancel) */',
    'const half = a / 2; // docs/mastra.md: Run state, Run lists',
  ].join('\n');

  test('finds comments, not strings, templates or regular expressions', () => {
    expect(commentsOf(source).map((c) => c.line)).toEqual([1, 5, 6]);
  });

  test('reports missing paths and sections, outside documents and issue numbers, and nothing else', () => {
    expect(show(problemsOf('x.ts', commentsOf(source), false))).toEqual([
      'x.ts:1: cites src/nowhere.ts, which the repository does not have',
      'x.ts:1: cites "No such section" of docs/slack.md, which has no such heading',
      'x.ts:5: cites a document outside the repository: /** cites ../shared/mastra/CONTRACT.md, issue 13 and src/mastra/client.ts (docs/mastra.md, Cancel) */',
      'x.ts:5: cites an issue number (say what it meant instead): /** cites ../shared/mastra/CONTRACT.md, issue 13 and src/mastra/client.ts (docs/mastra.md, Cancel) */',
    ]);
  });

  test('checks relative links and anchors of Markdown files', () => {
    const text = [
      '[a](mastra.md#run-state) [b](mastra.md#nope) [c](missing.md) [d](#text-limits) [e](https://x.y/z)',
      '[f](../src/slack/text/fit.ts) [g](../../outside.md) `[h](not-a-link)`',
    ].join('\n');
    expect(show(problemsOf('docs/slack.md', [{ text, line: 1 }], true))).toEqual([
      'docs/slack.md:1: links to mastra.md#nope, whose heading does not exist',
      'docs/slack.md:1: links to missing.md, which the repository does not have',
      'docs/slack.md:2: links to ../../outside.md, which the repository does not have',
    ]);
  });
});
