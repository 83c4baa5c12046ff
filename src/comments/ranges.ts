/**
 * Range anchors in the browser: made from an editor selection, resolved to offsets in
 * the editor's `Y.Text` (docs/PROTOCOL.md, "Comments"). Yjs does the work, so the
 * browser and the server agree on every character.
 */
import * as Y from 'yjs';

import { CommentAnchor, ICommentThread } from '../connection';

/**
 * The anchor of the text `from`..`to` of `ytext` (offsets as CodeMirror's, in UTF-16
 * units): its start sticks to the first character, its end to the last, so typing just
 * before or after the range does not grow it.
 */
export function rangeAnchor(
  ytext: Y.Text,
  from: number,
  to: number,
  cellId?: string
): CommentAnchor {
  const start = Y.createRelativePositionFromTypeIndex(ytext, from, 0);
  const end = Y.createRelativePositionFromTypeIndex(ytext, to, -1);
  return {
    kind: 'range',
    ...(cellId === undefined ? {} : { cell_id: cellId }),
    start: toBase64(Y.encodeRelativePosition(start)),
    end: toBase64(Y.encodeRelativePosition(end))
  };
}

/**
 * Where a range anchor is in `ytext` now, or `null` when it is not in this text (or
 * its text is gone, or it is empty).
 */
export function resolveRange(
  ytext: Y.Text,
  anchor: CommentAnchor
): { from: number; to: number } | null {
  if (anchor.kind !== 'range' || ytext.doc === null) {
    return null;
  }
  try {
    const start = Y.createAbsolutePositionFromRelativePosition(
      Y.decodeRelativePosition(fromBase64(anchor.start)),
      ytext.doc
    );
    const end = Y.createAbsolutePositionFromRelativePosition(
      Y.decodeRelativePosition(fromBase64(anchor.end)),
      ytext.doc
    );
    if (start === null || end === null || start.type !== ytext || end.type !== ytext) {
      return null;
    }
    return start.index < end.index ? { from: start.index, to: end.index } : null;
  } catch {
    return null; // not a position: nothing to draw
  }
}

/** The threads that draw a highlight in `ytext`: open, attached ranges in it. */
export function rangesIn(
  ytext: Y.Text,
  threads: readonly ICommentThread[],
  cellId?: string
): { thread: ICommentThread; from: number; to: number }[] {
  const found = [];
  for (const thread of threads) {
    const anchor = thread.anchor;
    if (
      thread.status !== 'open' ||
      thread.detached ||
      anchor.kind !== 'range' ||
      (anchor.cell_id ?? undefined) !== cellId
    ) {
      continue;
    }
    const at = resolveRange(ytext, anchor);
    if (at !== null) {
      found.push({ thread, ...at });
    }
  }
  return found.sort((a, b) => a.from - b.from || a.to - b.to);
}

/** A thread's colour: stable per thread, from its id. */
export function threadColor(threadId: string): string {
  let hash = 0;
  for (let i = 0; i < threadId.length; i++) {
    hash = (hash * 31 + threadId.charCodeAt(i)) >>> 0;
  }
  return `hsla(${hash % 360}, 85%, 60%, 0.35)`;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  bytes.forEach(b => (binary += String.fromCharCode(b)));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, c => c.charCodeAt(0));
}
