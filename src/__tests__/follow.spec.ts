/**
 * Follow mode and presenting as a state machine: which document a followed person is in,
 * what the follower shows of their cell, scroll and line, what stops following (and what
 * does not when held), and publishing one's own scroll place at most four times a second.
 */
import { EditorView } from '@codemirror/view';
import {
  applyAwarenessUpdate,
  Awareness,
  encodeAwarenessUpdate
} from 'y-protocols/awareness';
import * as Y from 'yjs';

import { IPresenceEntry, PresenceModel } from '../presence/model';
import {
  choosePlace,
  editorViewOf,
  firstVisibleLine,
  Follower,
  IFollowTarget,
  IFollowView,
  lineOf,
  samePlace,
  ScrollPlace,
  ScrollPublisher,
  scrollToLine
} from '../teaching';

// ---------------------------------------------------------------------------
// Helpers

const BOB = { username: 'bob', display_name: 'Bob Dylan', color: '#d62728' };

function entry(id: string, path: string, fields: Partial<IPresenceEntry> = {}): IPresenceEntry {
  return {
    id,
    client_id: 7,
    user: BOB,
    path,
    type: path.endsWith('.ipynb') ? 'notebook' : 'file',
    cell: null,
    cell_index: null,
    idle: false,
    role: 'editor',
    ...fields
  };
}

function followBob(fields: Partial<IFollowTarget> = {}): IFollowTarget {
  return {
    username: 'bob',
    label: 'Bob Dylan',
    clientId: null,
    path: null,
    held: false,
    presenter: false,
    color: BOB.color,
    ...fields
  };
}

/** One open document as the follower sees it, recording what it was asked to show. */
class FakeView implements IFollowView {
  constructor(readonly path: string) {}
  readonly awareness = new Awareness(new Y.Doc());
  readonly shown: Array<[string | null, string | null]> = [];
  readonly lines: number[] = [];
  showCell(cell: string | null, scroll: string | null): void {
    this.shown.push([cell, scroll]);
  }
  showCaret(): void {
    // the caret is drawn by the cursors extension; nothing to record
  }
  showLine(line: number): void {
    this.lines.push(line);
  }

  /** Make the followed person's awareness state (client 7) say `state`. */
  theySay(state: Record<string, unknown>): void {
    this._theirs.setLocalState(state);
    applyAwarenessUpdate(this.awareness, encodeAwarenessUpdate(this._theirs, [7]), 'remote');
  }

  private readonly _theirs = (() => {
    const doc = new Y.Doc();
    doc.clientID = 7; // their awareness client id, as the presence feed says
    return new Awareness(doc);
  })();
}

/** A follower over a real presence model; `opened` lists every `open` call's path. */
function setUp(): {
  model: PresenceModel;
  follower: Follower;
  root: HTMLElement;
  opened: string[];
  views: Map<string, FakeView>;
} {
  const model = new PresenceModel();
  const root = document.createElement('div');
  document.body.appendChild(root);
  const opened: string[] = [];
  const views = new Map<string, FakeView>();
  const follower = new Follower({
    presence: model,
    root,
    open: async path => {
      opened.push(path);
      const view = views.get(path) ?? new FakeView(path);
      views.set(path, view);
      return view;
    }
  });
  return { model, follower, root, opened, views };
}

/** Let the `open` promises settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}

const bar = (): HTMLElement | null => document.querySelector('[data-collab-follow-bar]');

afterEach(() => {
  document.body.replaceChildren();
});

// ---------------------------------------------------------------------------

describe('choosePlace', () => {
  const a = entry('a', 'a.ipynb');
  const b = entry('b', 'b.ipynb');

  it('prefers an active place to an idle one, however recent', () => {
    const idleB = { ...b, idle: true };

    expect(choosePlace([a, idleB], e => (e === idleB ? 5 : 0), null, 'b.ipynb')).toBe(a);
  });

  it('prefers the place they moved in last', () => {
    expect(choosePlace([a, b], e => (e === b ? 2 : 1), 'a.ipynb', null)).toBe(b);
  });

  it('breaks a tie with the document shown, then the one asked for, then feed order', () => {
    const never = (): number => 0;

    expect(choosePlace([a, b], never, 'b.ipynb', 'a.ipynb')).toBe(b);
    expect(choosePlace([a, b], never, null, 'b.ipynb')).toBe(b);
    expect(choosePlace([a, b], never, null, null)).toBe(a);
    expect(choosePlace([], never, null, null)).toBeUndefined();
  });
});

describe('Follower', () => {
  it('opens their document and shows their cell and scroll, once per change', async () => {
    const { model, follower, opened, views } = setUp();
    model.apply({ type: 'snapshot', people: [entry('e1', 'lesson.ipynb')] });

    follower.start(followBob());
    await settle();
    const view = views.get('lesson.ipynb')!;
    view.theySay({ cell: 'c2', scroll: { cell: 'c1' } });
    view.theySay({ cell: 'c2', scroll: { cell: 'c1' }, cursor: null });

    expect(opened).toEqual(['lesson.ipynb']);
    expect(view.shown).toEqual([
      [null, null],
      ['c2', 'c1']
    ]);
  });

  it('shows a bar with their name and colour, and Stop', () => {
    const { model, follower } = setUp();
    model.apply({ type: 'snapshot', people: [entry('e1', 'lesson.ipynb')] });

    follower.start(followBob());

    expect(bar()?.dataset.collabFollowing).toBe('bob');
    expect(bar()?.querySelector('.jp-collab-follow-text')?.textContent).toBe(
      'Following Bob Dylan'
    );
    const swatch = bar()?.querySelector<HTMLElement>('.jp-collab-follow-swatch');
    expect(swatch?.hidden).toBe(false);
    expect(swatch?.style.background).toBe('rgb(214, 39, 40)');
    expect(bar()?.querySelector('[data-collab-stop-follow]')?.textContent).toBe('Stop');
  });

  it('shows no swatch for a colour that is not a safe CSS colour', () => {
    const { model, follower } = setUp();
    model.apply({ type: 'snapshot', people: [entry('e1', 'lesson.ipynb')] });

    follower.start(followBob({ color: 'red; background: url(x)' }));

    expect(bar()?.querySelector<HTMLElement>('.jp-collab-follow-swatch')?.hidden).toBe(true);
  });

  it('opens the document they move to, even while the old one is still active', async () => {
    const { model, follower, opened } = setUp();
    model.apply({ type: 'snapshot', people: [entry('e1', 'a.ipynb')] });
    follower.start(followBob());
    await settle();

    model.apply({ type: 'update', set: [entry('e2', 'notes.md')], gone: [] });
    await settle();
    model.apply({ type: 'update', set: [entry('e1', 'a.ipynb', { cell: 'c1' })], gone: [] });
    await settle();

    expect(opened).toEqual(['a.ipynb', 'notes.md', 'a.ipynb']);
  });

  it('starts in the document asked for when they are in several', async () => {
    const { model, follower, opened } = setUp();
    model.apply({
      type: 'snapshot',
      people: [entry('e1', 'a.ipynb'), entry('e2', 'b.ipynb')]
    });

    follower.start(followBob({ startPath: 'b.ipynb' }));
    await settle();

    expect(opened).toEqual(['b.ipynb']);
  });

  it('says so when they are in no shared document', () => {
    const { follower } = setUp();

    follower.start(followBob());

    expect(bar()?.textContent).toContain('Following Bob Dylan · not in a shared document now');
  });

  it('scrolls a text file to their first visible line', async () => {
    const { model, follower, views } = setUp();
    model.apply({ type: 'snapshot', people: [entry('e1', 'notes.md')] });
    follower.start(followBob());
    await settle();

    views.get('notes.md')!.theySay({ scroll: { line: 40 } });

    expect(views.get('notes.md')!.lines).toEqual([40]);
  });

  it('stops on an own key, click or wheel in the main area, but not on the bar', () => {
    for (const kind of ['keydown', 'mousedown', 'wheel']) {
      const { model, follower, root } = setUp();
      model.apply({ type: 'snapshot', people: [entry('e1', 'lesson.ipynb')] });
      follower.start(followBob());

      bar()!.dispatchEvent(new Event(kind, { bubbles: true }));
      expect(follower.target).not.toBeNull();
      root.dispatchEvent(new Event(kind, { bubbles: true }));

      expect(follower.target).toBeNull();
      expect(bar()).toBeNull();
    }
  });

  it('keeps a held audience following: no Leave button, own actions ignored', () => {
    const { model, follower, root } = setUp();
    model.apply({ type: 'snapshot', people: [entry('e1', 'lesson.ipynb')] });

    follower.start(
      followBob({ presenter: true, held: true, clientId: 7, path: 'lesson.ipynb' })
    );
    root.dispatchEvent(new Event('keydown', { bubbles: true }));

    expect(follower.target?.held).toBe(true);
    expect(bar()?.textContent).toContain('Bob Dylan is presenting (you follow along)');
    expect(bar()?.querySelector<HTMLElement>('[data-collab-stop-follow]')?.hidden).toBe(true);
  });

  it('lets an audience that is not held leave with Leave', () => {
    const { model, follower } = setUp();
    model.apply({ type: 'snapshot', people: [entry('e1', 'lesson.ipynb')] });
    follower.start(followBob({ presenter: true, clientId: 7, path: 'lesson.ipynb' }));
    const leave = bar()!.querySelector<HTMLButtonElement>('[data-collab-stop-follow]')!;

    expect(leave.textContent).toBe('Leave');
    leave.click();

    expect(follower.target).toBeNull();
  });

  it('follows a presenter in the presented document only', async () => {
    const { model, follower, opened } = setUp();
    model.apply({
      type: 'snapshot',
      people: [entry('e1', 'lesson.ipynb'), entry('e2', 'other.ipynb', { client_id: 9 })]
    });
    follower.start(followBob({ presenter: true, clientId: 7, path: 'lesson.ipynb' }));
    await settle();

    const moved = entry('e2', 'other.ipynb', { client_id: 9, cell: 'x' });
    model.apply({ type: 'update', set: [moved], gone: [] });
    await settle();

    expect(opened).toEqual(['lesson.ipynb']);
  });

  it('binds only the latest document asked for when answers come late', async () => {
    const model = new PresenceModel();
    const answers: Array<() => void> = [];
    const views: FakeView[] = [];
    const follower = new Follower({
      presence: model,
      root: document.body,
      open: path =>
        new Promise(resolve => {
          const view = new FakeView(path);
          views.push(view);
          answers.push(() => resolve(view));
        })
    });
    model.apply({ type: 'snapshot', people: [entry('e1', 'a.ipynb')] });
    follower.start(followBob());
    model.apply({ type: 'update', set: [entry('e2', 'b.ipynb')], gone: [] });

    answers[1]();
    answers[0]();
    await settle();
    views[0].theySay({ cell: 'in-a' });
    views[1].theySay({ cell: 'in-b' });

    expect(views[0].shown).toEqual([]);
    expect(views[1].shown.pop()).toEqual(['in-b', null]);
  });
});

describe('scroll places', () => {
  it('reads a first visible line from awareness, refusing anything else', () => {
    expect(lineOf({ scroll: { line: 12 } })).toBe(12);
    expect(lineOf({ scroll: { line: 0 } })).toBeNull();
    expect(lineOf({ scroll: { line: 1.5 } })).toBeNull();
    expect(lineOf({ scroll: { cell: 'c1' } })).toBeNull();
    expect(lineOf({ scroll: 'x' })).toBeNull();
    expect(lineOf(null)).toBeNull();
  });

  it('compares places', () => {
    expect(samePlace({ cell: 'a' }, { cell: 'a' })).toBe(true);
    expect(samePlace({ cell: 'a' }, { line: 1 })).toBe(false);
    expect(samePlace(null, { line: 1 })).toBe(false);
  });

  it('finds no editor view in a widget without one', () => {
    expect(editorViewOf(null)).toBeNull();
    expect(editorViewOf({ content: { editor: { editor: {} } } })).toBeNull();
  });

  it("finds a file editor's CodeMirror view, reads its top line and scrolls to a line", () => {
    const parent = document.createElement('div');
    document.body.appendChild(parent);
    const view = new EditorView({ doc: 'a\nb\nc', parent });

    expect(editorViewOf({ content: { editor: { editor: view } } })).toBe(view);
    expect(firstVisibleLine(view)).toEqual({ line: 1 }); // jsdom lays nothing out
    expect(() => scrollToLine(view, 99)).not.toThrow(); // clamped to the last line
    view.dom.remove();
    expect(firstVisibleLine(view)).toBeNull();
    view.destroy();
  });
});

describe('ScrollPublisher', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('publishes at most four times a second, and only a changed place', () => {
    const awareness = new Awareness(new Y.Doc());
    const published: unknown[] = [];
    awareness.on('change', () => published.push(awareness.getLocalState()?.scroll));
    let place: ScrollPlace | null = { cell: 'c1' };
    const publisher = new ScrollPublisher({ awareness, where: () => place });

    for (let i = 0; i < 20; i++) {
      publisher.schedule(); // a burst of scroll events
    }
    jest.advanceTimersByTime(250);
    publisher.schedule();
    jest.advanceTimersByTime(250);
    place = { cell: 'c3' };
    publisher.schedule();
    jest.advanceTimersByTime(100);
    expect(published).toEqual([{ cell: 'c1' }]);
    jest.advanceTimersByTime(150);

    expect(published).toEqual([{ cell: 'c1' }, { cell: 'c3' }]);
  });

  it('publishes nothing once disposed, or while the view cannot tell', () => {
    const awareness = new Awareness(new Y.Doc());
    const publisher = new ScrollPublisher({ awareness, where: () => null });

    publisher.schedule();
    jest.advanceTimersByTime(250);
    expect(awareness.getLocalState()?.scroll).toBeUndefined();

    const later = new ScrollPublisher({ awareness, where: () => ({ line: 3 }) });
    later.schedule();
    later.dispose();
    jest.advanceTimersByTime(250);

    expect(awareness.getLocalState()?.scroll).toBeUndefined();
  });
});
