import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { DEFAULTS } from '../src/config.ts';

interface Manifest {
  features: { slash_commands: { command: string; url?: string }[] };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean; request_url?: string }; socket_mode_enabled: boolean };
}

const load = (name: string) =>
  parse(readFileSync(new URL(`../manifest/${name}`, import.meta.url), 'utf8')) as Manifest;

describe('Slack app manifests', () => {
  for (const [file, socket] of [
    ['socket-mode.yaml', true],
    ['http-mode.yaml', false],
  ] as const) {
    test(`${file}: the slash command, interactivity and every scope Flowgate calls need`, () => {
      const manifest = load(file);
      expect(manifest.features.slash_commands.map((c) => c.command)).toEqual([DEFAULTS.command]);
      expect(manifest.settings.interactivity.is_enabled).toBe(true);
      expect(manifest.settings.socket_mode_enabled).toBe(socket);
      for (const scope of [
        'commands',
        'chat:write',
        'chat:write.public',
        'im:write',
        'usergroups:read',
        'users:read.email',
        'channels:read',
        'groups:read',
        'im:read',
        'mpim:read',
      ]) {
        expect(manifest.oauth_config.scopes.bot).toContain(scope);
      }
      if (!socket) {
        expect(manifest.settings.interactivity.request_url).toMatch(/\/slack\/events$/);
        expect(manifest.features.slash_commands[0]?.url).toMatch(/\/slack\/events$/);
      }
    });
  }
});
