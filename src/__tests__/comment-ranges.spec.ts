/**
 * Range anchors made and resolved by Yjs: they follow the text, do not grow when
 * someone types just before or after them, and say nothing for another text.
 */
import * as Y from 'yjs';

import { rangeAnchor, rangesIn, resolveRange } from '../comments';
import { ICommentThread } from '../connection';
import { thread } from './comments-helpers';

function textOf(content: string): Y.Text {
  const doc = new Y.Doc();
  const text = doc.getText('source');
  text.insert(0, content);
  return text;
}

describe('range anchors', () => {
  it('cover the selected text and follow edits before, at and after it', () => {
    const text = textOf('x = 1\nprint(x)');
    const anchor = rangeAnchor(text, 6, 14, 'c1');
    expect(anchor).toMatchObject({ kind: 'range', cell_id: 'c1' });

    text.insert(0, '# a\n'); // above
    text.insert(10, '>'); // right before the range
    text.insert(text.length, '!'); // right after it
    const at = resolveRange(text, anchor)!;
    expect(text.toString().slice(at.from, at.to)).toBe('print(x)');

    text.insert(at.from + 5, 'ed'); // inside
    const inside = resolveRange(text, anchor)!;
    expect(text.toString().slice(inside.from, inside.to)).toBe('printed(x)');
  });

  it('resolve to nothing once the text is deleted, or in another text', () => {
    const text = textOf('abc def');
    const anchor = rangeAnchor(text, 4, 7);
    expect(resolveRange(textOf('abc def'), anchor)).toBeNull();
    text.delete(4, 3);
    expect(resolveRange(text, anchor)).toBeNull();
    expect(resolveRange(text, { ...anchor, start: 'not base64!' } as any)).toBeNull();
  });

  it('highlight only open, attached ranges of this cell', () => {
    const text = textOf('one two three');
    const anchor = rangeAnchor(text, 4, 7, 'c1');
    const on = (id: string, over: Partial<ICommentThread>) =>
      thread(id, { anchor, messages: [], ...over });
    const found = rangesIn(
      text,
      [
        on('open', {}),
        on('done', { status: 'resolved' }),
        on('gone', { detached: true }),
        on('other', { anchor: rangeAnchor(text, 0, 3, 'c2') })
      ],
      'c1'
    );
    expect(found.map(f => [f.thread.id, f.from, f.to])).toEqual([['open', 4, 7]]);
  });
});
