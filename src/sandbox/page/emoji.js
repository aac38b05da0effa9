/** Slack emoji short codes the sandbox shows as characters; any other `:code:` stays as typed. */
export const EMOJI = Object.freeze({
  '+1': '👍',
  '-1': '👎',
  bell: '🔔',
  calendar: '📅',
  clock1: '🕐',
  double_vertical_bar: '⏸️',
  eyes: '👀',
  fast_forward: '⏩',
  fire: '🔥',
  gear: '⚙️',
  heavy_check_mark: '✔️',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  information_source: 'ℹ️',
  leftwards_arrow_with_hook: '↩️',
  lock: '🔒',
  memo: '📝',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  octagonal_sign: '🛑',
  package: '📦',
  raised_hand: '✋',
  rocket: '🚀',
  speech_balloon: '💬',
  tada: '🎉',
  thumbsup: '👍',
  thumbsdown: '👎',
  warning: '⚠️',
  wave: '👋',
  white_check_mark: '✅',
  white_circle: '⚪',
  x: '❌',
  zzz: '💤',
});

/** `:white_check_mark: done` → `✅ done`; unknown codes are left as they are. */
export function emojify(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (match, name) =>
    Object.hasOwn(EMOJI, name) ? EMOJI[name] : match,
  );
}
