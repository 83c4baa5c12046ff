/**
 * Where this person's view of a document is, published as `scroll` in its awareness
 * (docs/PROTOCOL.md, "1: awareness") so that followers and a presenter's audience see
 * what they see: the first visible cell of a notebook, or the first visible line of a
 * text file. Reads plain DOM and CodeMirror views; no JupyterLab.
 */
import { EditorView } from '@codemirror/view';
import { Awareness } from 'y-protocols/awareness';

import { isRecord } from '../cursors/model';

/** A view's place: `{cell}` in a notebook, `{line}` (1-based) in a text file. */
export type ScrollPlace = { readonly cell: string } | { readonly line: number };

/** At most this many publications a second: scrolling fires far more events. */
export const SCROLL_PUBLISH_INTERVAL_MS = 250;

/**
 * The first visible line (1-based) a person's awareness state says they see, or `null`.
 * Cells are read by `placeOf` in follow.ts; this is the text-file half.
 */
export function lineOf(state: unknown): number | null {
  if (!isRecord(state) || !isRecord(state.scroll)) {
    return null;
  }
  const line = state.scroll.line;
  return Number.isInteger(line) && (line as number) >= 1 ? (line as number) : null;
}

/**
 * A CodeMirror view, recognised by shape: a file editor widget holds it as
 * `content.editor.editor`, typed loosely by JupyterLab.
 */
export function editorViewOf(widget: unknown): EditorView | null {
  const view = (widget as { content?: { editor?: { editor?: unknown } } } | null)?.content
    ?.editor?.editor;
  return isRecord(view) && 'scrollDOM' in view && typeof view.lineBlockAtHeight === 'function'
    ? (view as unknown as EditorView)
    : null;
}

/** What finding the first visible cell needs of a notebook (`Notebook` has it). */
export interface IScrollNotebook {
  readonly node: HTMLElement;
  readonly widgets: ReadonlyArray<{
    readonly model: { readonly id: string };
    readonly node: HTMLElement;
  }>;
}

/**
 * The first cell whose bottom is below the notebook's top edge: the one a person reads
 * first. A few pixels of slack, so a cell scrolled almost out does not count.
 */
export function firstVisibleCell(notebook: IScrollNotebook): ScrollPlace | null {
  const top = notebook.node.getBoundingClientRect().top;
  const first = notebook.widgets.find(
    cell => cell.node.isConnected && cell.node.getBoundingClientRect().bottom > top + 4
  );
  return first ? { cell: first.model.id } : null;
}

/**
 * The first line at the top of an editor's scroll area. CodeMirror measures heights from
 * the document's top, so the scroller's top edge is turned into that offset first.
 */
export function firstVisibleLine(view: EditorView): ScrollPlace | null {
  if (!view.dom.isConnected) {
    return null;
  }
  const height = view.scrollDOM.getBoundingClientRect().top - view.documentTop;
  const block = view.lineBlockAtHeight(Math.max(0, height));
  return { line: view.state.doc.lineAt(block.from).number };
}

/**
 * Scroll an editor so `line` (1-based, clamped to the document) is at its top: the way
 * the followed person sees it.
 */
export function scrollToLine(view: EditorView, line: number): void {
  const doc = view.state.doc;
  const at = doc.line(Math.min(Math.max(1, line), doc.lines)).from;
  view.dispatch({ effects: EditorView.scrollIntoView(at, { y: 'start' }) });
}

/** Whether two places are the same (so nothing needs publishing). */
export function samePlace(a: ScrollPlace | null, b: ScrollPlace | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Constructor options of `ScrollPublisher`. */
export interface IScrollPublisherOptions {
  readonly awareness: Awareness;
  /** Where the view is now; `null` when it cannot tell (not attached yet). */
  where(): ScrollPlace | null;
  /** The least time between two publications (`SCROLL_PUBLISH_INTERVAL_MS`). */
  readonly intervalMs?: number;
}

/**
 * Publishes a view's place on scroll, throttled and only when it changed: every
 * awareness change is sent to everyone in the document, so a scroll must not become a
 * stream of identical messages.
 */
export class ScrollPublisher {
  constructor(options: IScrollPublisherOptions) {
    this._options = options;
  }

  /** Call on every scroll event; the place is read once the interval has passed. */
  schedule(): void {
    if (this._timer === null && !this._disposed) {
      const wait = this._options.intervalMs ?? SCROLL_PUBLISH_INTERVAL_MS;
      this._timer = setTimeout(this._publish, wait);
    }
  }

  dispose(): void {
    this._disposed = true;
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private readonly _publish = (): void => {
    this._timer = null;
    const awareness = this._options.awareness;
    const place = this._options.where();
    // `null` local state: the connection is gone for good, there is no one to tell
    if (place === null || awareness.getLocalState() === null) {
      return;
    }
    if (!samePlace(place, this._last)) {
      this._last = place;
      awareness.setLocalStateField('scroll', place);
    }
  };

  private readonly _options: IScrollPublisherOptions;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _last: ScrollPlace | null = null;
  private _disposed = false;
}
