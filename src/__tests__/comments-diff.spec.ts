/**
 * The inline diff of a suggested edit: what a reader sees struck out and added.
 */
import { diffWords, IDiffPart } from '../comments';

/** `[-deleted-]` and `{+inserted+}`, as `git diff --word-diff` writes them. */
const show = (parts: IDiffPart[]) =>
  parts
    .map(p => (p.kind === 'same' ? p.text : p.kind === 'del' ? `[-${p.text}-]` : `{+${p.text}+}`))
    .join('');

describe('diffWords', () => {
  it('shows what was added inside a line, keeping the rest', () => {
    expect(show(diffWords('print(x)', 'print(x * 2)'))).toBe('print(x{+ * 2+})');
  });

  it('shows a replaced word as struck out then added', () => {
    expect(show(diffWords('the quick fox', 'the slow fox'))).toBe('the [-quick-]{+slow+} fox');
  });

  it('keeps every character of both texts, in order', () => {
    const before = 'a = 1\nb = 2\nc = 3\n';
    const after = 'a = 1\nb = 20  # bigger\nd = 3\n';
    const parts = diffWords(before, after);
    expect(parts.filter(p => p.kind !== 'ins').map(p => p.text).join('')).toBe(before);
    expect(parts.filter(p => p.kind !== 'del').map(p => p.text).join('')).toBe(after);
  });

  it('handles empty texts and identical ones', () => {
    expect(diffWords('', 'new')).toEqual([{ kind: 'ins', text: 'new' }]);
    expect(diffWords('old', '')).toEqual([{ kind: 'del', text: 'old' }]);
    expect(diffWords('same', 'same')).toEqual([{ kind: 'same', text: 'same' }]);
  });

  it('answers at once for a long rewrite, as one deletion and one insertion', () => {
    const before = Array.from({ length: 3000 }, (_, i) => `w${i}`).join(' ');
    const after = Array.from({ length: 3000 }, (_, i) => `v${i}`).join(' ');
    const started = Date.now();
    const parts = diffWords(before, after);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(parts.map(p => p.kind)).toEqual(['del', 'ins']);
  });
});
