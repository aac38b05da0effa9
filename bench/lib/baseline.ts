/** Modules of an earlier commit, for before/after figures: its `src/`, extracted with `git archive`. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `commit`'s `src/` in a temporary directory: `load` imports a module from it, `dispose` removes it. */
export function baselineSource(commit: string): {
  load: (module: string) => Promise<Record<string, unknown>>;
  dispose: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'flowgate-baseline-'));
  const archive = execFileSync('git', ['-C', ROOT, 'archive', commit, 'src'], { maxBuffer: 64 << 20 });
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return {
    load: (module) => import(join(dir, module)),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
