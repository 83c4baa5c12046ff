/**
 * CodeMirror 6 extension drawing other users' carets, labels and selections
 * from y-protocols awareness. The rules (who, where, active or idle) live in
 * `model.ts`; this module only turns them into decorations and keeps them
 * fresh. No JupyterLab imports: a plugin registers it through
 * `IEditorExtensionRegistry`.
 */

import { Extension, Facet, Range, StateEffect } from '@codemirror/state';
import {
  Decoration,
  DecorationSet,
  EditorView,
  PluginValue,
  ViewPlugin,
  ViewUpdate,
  WidgetType
} from '@codemirror/view';
import { Awareness } from 'y-protocols/awareness';
import { Text, YTextEvent } from 'yjs';

import { collectRemoteCursors, CursorActivity, RemoteCursor } from './model';
import {
  remoteCursorsTheme,
  USER_COLOR_PROPERTY,
  USER_TEXT_COLOR_PROPERTY
} from './theme';

/**
 * Options of `remoteCursors`.
 */
export interface RemoteCursorsOptions {
  /** Awareness of the document the editor shows (e.g. `sharedModel.awareness`). */
  awareness: Awareness;
  /** The text bound to the editor (e.g. `sharedModel.ysource`). */
  ytext: Text;
  /** Clock in milliseconds; defaults to `Date.now`. Inject one in tests. */
  now?: () => number;
  /** How long (ms) a caret label stays visible after its user last moved. */
  idleTimeoutMs?: number;
}

/**
 * Inputs of the remote cursors plugin; the last provided value wins.
 */
export const remoteCursorsConfig = Facet.define<
  RemoteCursorsOptions,
  RemoteCursorsOptions | null
>({
  combine: values => values[values.length - 1] ?? null
});

/**
 * Asks the plugin to recompute (awareness changed, or a label's idle time
 * ran out). Awareness lives outside the editor state, so this is how its
 * changes enter a CodeMirror update.
 */
export const refreshRemoteCursors = StateEffect.define<null>();

/**
 * The payload of y-protocols' awareness `change` event.
 */
interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

interface CaretAppearance {
  clientId: number;
  name: string;
  color: string;
  textColor: string | null;
  active: boolean;
  /**
   * Where the label goes: above the caret; below it on the first line (no room above);
   * beside it in a one-line editor (a one-line cell clips both above and below).
   */
  placement: 'above' | 'below' | 'beside';
}

class RemoteCaretWidget extends WidgetType {
  constructor(readonly appearance: CaretAppearance) {
    super();
  }

  eq(other: RemoteCaretWidget): boolean {
    const a = this.appearance;
    const b = other.appearance;
    return (
      a.clientId === b.clientId &&
      a.name === b.name &&
      a.color === b.color &&
      a.textColor === b.textColor &&
      a.active === b.active &&
      a.placement === b.placement
    );
  }

  toDOM(): HTMLElement {
    const caret = document.createElement('span');
    const label = document.createElement('span');
    label.className = 'jp-CollabRemoteCursor-label';
    caret.appendChild(label);
    this._paint(caret, label);
    return caret;
  }

  // Updating in place (rather than redrawing) lets the label's opacity
  // transition run when a user turns idle: that is the fade-out.
  updateDOM(dom: HTMLElement): boolean {
    const label = dom.firstElementChild;
    if (!(label instanceof HTMLElement)) {
      return false;
    }
    this._paint(dom, label);
    return true;
  }

  private _paint(caret: HTMLElement, label: HTMLElement): void {
    const { clientId, name, color, textColor, active, placement } = this.appearance;
    caret.className = 'jp-CollabRemoteCursor';
    caret.classList.toggle('jp-mod-active', active);
    caret.classList.toggle('jp-mod-below', placement === 'below');
    caret.classList.toggle('jp-mod-beside', placement === 'beside');
    caret.dataset.clientId = String(clientId);
    caret.style.setProperty(USER_COLOR_PROPERTY, color);
    if (textColor === null) {
      caret.style.removeProperty(USER_TEXT_COLOR_PROPERTY);
    } else {
      caret.style.setProperty(USER_TEXT_COLOR_PROPERTY, textColor);
    }
    label.textContent = name;
  }
}

/**
 * Turn resolved cursors into decorations, clamped to the editor's document.
 */
function decorate(view: EditorView, cursors: RemoteCursor[]): DecorationSet {
  const doc = view.state.doc;
  const clamp = (offset: number) => Math.max(0, Math.min(offset, doc.length));
  const ranges: Range<Decoration>[] = [];
  for (const cursor of cursors) {
    const from = clamp(cursor.from);
    const to = clamp(cursor.to);
    const head = clamp(cursor.head);
    if (from < to) {
      ranges.push(
        Decoration.mark({
          class: 'jp-CollabRemoteSelection',
          attributes: { style: `${USER_COLOR_PROPERTY}: ${cursor.color}` }
        }).range(from, to)
      );
    }
    const widget = new RemoteCaretWidget({
      clientId: cursor.clientId,
      name: cursor.name,
      color: cursor.color,
      textColor: cursor.textColor,
      active: cursor.active,
      placement:
        doc.lines === 1 ? 'beside' : doc.lineAt(head).number === 1 ? 'below' : 'above'
    });
    ranges.push(
      Decoration.widget({
        widget,
        // keep the caret at the selection's edge it belongs to
        side: cursor.head > cursor.anchor ? -1 : 1
      }).range(head)
    );
  }
  return Decoration.set(ranges, true);
}

class RemoteCursorsPlugin implements PluginValue {
  constructor(readonly view: EditorView) {
    this._connect(view.state.facet(remoteCursorsConfig));
    this.decorations = this._render();
  }

  decorations: DecorationSet;

  update(update: ViewUpdate): void {
    const config = update.state.facet(remoteCursorsConfig);
    const reconfigured = config !== this._config;
    if (reconfigured) {
      this._disconnect();
      this._connect(config);
    }
    const refresh = update.transactions.some(tr =>
      tr.effects.some(effect => effect.is(refreshRemoteCursors))
    );
    if (reconfigured || refresh || update.docChanged) {
      this.decorations = this._render();
    }
  }

  destroy(): void {
    this._disconnect();
  }

  private _connect(config: RemoteCursorsOptions | null): void {
    this._config = config;
    if (config === null) {
      return;
    }
    this._activity = new CursorActivity({
      now: config.now,
      idleTimeoutMs: config.idleTimeoutMs
    });
    config.awareness.on('change', this._onAwarenessChange);
    config.ytext.observe(this._onTextChange);
  }

  private _disconnect(): void {
    this._config?.awareness.off('change', this._onAwarenessChange);
    this._config?.ytext.unobserve(this._onTextChange);
    this._clearTimer();
  }

  private _render(): DecorationSet {
    this._clearTimer();
    const config = this._config;
    if (config === null) {
      return Decoration.none;
    }
    const cursors = collectRemoteCursors({
      states: config.awareness.getStates(),
      localClientId: config.awareness.clientID,
      ytext: config.ytext,
      activity: this._activity
    });
    this._scheduleFade(cursors);
    return decorate(this.view, cursors);
  }

  // Nothing else updates the editor when a user merely stops moving, so wake
  // up when the next active label is due to turn idle.
  private _scheduleFade(cursors: RemoteCursor[]): void {
    const due = cursors
      .filter(cursor => cursor.active)
      .map(cursor => this._activity.remainingMs(cursor.clientId));
    if (due.length === 0) {
      return;
    }
    this._timer = setTimeout(
      () => {
        this._timer = null;
        this.view.dispatch({ effects: refreshRemoteCursors.of(null) });
      },
      Math.min(...due) + 1
    );
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private readonly _onAwarenessChange = (change: AwarenessChange): void => {
    const local = this._config?.awareness.clientID;
    const clients = [...change.added, ...change.updated, ...change.removed];
    // Our own state is excluded from rendering, and the local publisher sets
    // it from inside an editor update, where dispatching is not allowed.
    if (clients.some(clientId => clientId !== local)) {
      this.view.dispatch({ effects: refreshRemoteCursors.of(null) });
    }
  };

  // Someone typed: their label shows again (their published range may not change).
  // Whoever inserted text advanced their own clock in this transaction, and a Yjs
  // client id is also that client's awareness id.
  private readonly _onTextChange = (event: YTextEvent): void => {
    const local = this._config?.awareness.clientID;
    const { beforeState, afterState } = event.transaction;
    const typists = new Set<number>();
    afterState.forEach((clock, clientId) => {
      if (clientId !== local && clock > (beforeState.get(clientId) ?? 0)) {
        typists.add(clientId);
      }
    });
    if (typists.size === 0) {
      return; // our own typing: this runs inside the editor's update, so never dispatch
    }
    typists.forEach(clientId => this._activity.touch(clientId));
    this.view.dispatch({ effects: refreshRemoteCursors.of(null) });
  };

  private _config: RemoteCursorsOptions | null = null;
  private _activity = new CursorActivity();
  private _timer: ReturnType<typeof setTimeout> | null = null;
}

const remoteCursorsPlugin = ViewPlugin.fromClass(RemoteCursorsPlugin, {
  decorations: plugin => plugin.decorations
});

/**
 * Show every other client's caret and selection in the editor.
 *
 * Reads the awareness field `cursor` = `{anchor, head}` (Yjs relative
 * positions as JSON, y-codemirror.next's format), falling back to
 * jupyter-collaboration's `cursors` array, and the server-stamped `user`
 * (`display_name`, `color`). States without both are ignored. Labels show
 * while their user moves or types, fade `idleTimeoutMs` after (2 s by default),
 * and show again while the pointer is over the caret.
 */
export function remoteCursors(options: RemoteCursorsOptions): Extension {
  return [
    remoteCursorsConfig.of(options),
    remoteCursorsTheme,
    remoteCursorsPlugin
  ];
}
