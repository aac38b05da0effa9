/**
 * The publisher's guard (src/slack/io/publisher.ts `SendGuard`) on the shared store: every edit of a
 * progress message is stamped with its run and version (src/runs/version.ts) and goes out only if
 * the store's compare-and-set (`Store.claimEdit`) says it is newer than what any replica claimed or
 * showed, or new content at the same version; what the message shows is recorded as a hash of its
 * content, so no replica, nor the same one after a restart, sends an edit that changes nothing.
 */
import { createHash } from 'node:crypto';
import type { MessageVersion } from '../../runs/version.ts';
import type { MessageEdit, Store } from '../../store/index.ts';
import type { GuardedSend, SendGuard } from './publisher.ts';

/** What progress.ts stamps each rendering with. */
export interface EditStamp {
  runId: string;
  version: MessageVersion;
}

function isEditStamp(stamp: unknown): stamp is EditStamp {
  if (typeof stamp !== 'object' || stamp === null) return false;
  const { runId, version } = stamp as Partial<EditStamp>;
  return typeof runId === 'string' && typeof version === 'object' && version !== null;
}

/** A short, fixed-length hash of what Slack would show. */
export function contentHash(content: string): string {
  return createHash('sha256').update(content).digest('base64url').slice(0, 32);
}

function editOf(stamp: EditStamp, send: GuardedSend): MessageEdit {
  return { version: stamp.version, hash: contentHash(send.content) };
}

/** The guard on `store`: states published without an `EditStamp` go unguarded. */
export function storeGuard(store: Store): SendGuard {
  return {
    claim: async (_ref, send) =>
      isEditStamp(send.stamp) ? store.claimEdit(send.stamp.runId, editOf(send.stamp, send)) : 'send',
    shown: async (_ref, send) => {
      if (isEditStamp(send.stamp)) await store.editShown(send.stamp.runId, editOf(send.stamp, send));
    },
  };
}
