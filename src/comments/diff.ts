/**
 * A word-level diff of a suggested edit: the text a thread covers (its quote) against the
 * text it proposes, as runs of kept, deleted and inserted text for an inline view.
 */

/** A run of text: in both, only in the old text, or only in the new one. */
export interface IDiffPart {
  readonly kind: 'same' | 'del' | 'ins';
  readonly text: string;
}

/**
 * Above this many token pairs (after the common start and end are set aside) the diff
 * is "all of the old out, all of the new in": a longest-common-subsequence table that
 * big would stall the panel, and such a change reads as a rewrite anyway.
 */
const MAX_CELLS = 250_000;

/**
 * Diff two texts by words, spaces and punctuation, so `print(x)` -> `print(x * 2)` shows
 * ` * 2` inserted rather than the whole line replaced.
 */
export function diffWords(before: string, after: string): IDiffPart[] {
  const a = tokens(before);
  const b = tokens(after);
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) {
    start++;
  }
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const parts: IDiffPart[] = [];
  push(parts, 'same', a.slice(0, start).join(''));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  if (midA.length * midB.length > MAX_CELLS) {
    push(parts, 'del', midA.join(''));
    push(parts, 'ins', midB.join(''));
  } else {
    for (const part of lcsDiff(midA, midB)) {
      push(parts, part.kind, part.text);
    }
  }
  push(parts, 'same', a.slice(endA).join(''));
  return parts;
}

function tokens(text: string): string[] {
  return text.match(/\w+|\s+|[^\w\s]/gu) ?? [];
}

/** Append a run, merging it into the last one of the same kind; empty runs vanish. */
function push(parts: IDiffPart[], kind: IDiffPart['kind'], text: string): void {
  if (!text) {
    return;
  }
  const last = parts[parts.length - 1];
  if (last?.kind === kind) {
    parts[parts.length - 1] = { kind, text: last.text + text };
  } else {
    parts.push({ kind, text });
  }
}

/** The classic table of longest common subsequences, walked from the start. */
function lcsDiff(a: string[], b: string[]): IDiffPart[] {
  const n = a.length;
  const m = b.length;
  // lengths[i * (m + 1) + j]: the LCS length of a[i:] and b[j:]
  const lengths = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lengths[i * (m + 1) + j] =
        a[i] === b[j]
          ? lengths[(i + 1) * (m + 1) + j + 1] + 1
          : Math.max(lengths[(i + 1) * (m + 1) + j], lengths[i * (m + 1) + j + 1]);
    }
  }
  const parts: IDiffPart[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      push(parts, 'same', a[i++]);
      j++;
    } else if (lengths[(i + 1) * (m + 1) + j] >= lengths[i * (m + 1) + j + 1]) {
      push(parts, 'del', a[i++]);
    } else {
      push(parts, 'ins', b[j++]);
    }
  }
  push(parts, 'del', a.slice(i).join(''));
  push(parts, 'ins', b.slice(j).join(''));
  return parts;
}
