/**
 * CodeMirror 6 extension highlighting the comment ranges on an editor's text, each in
 * its thread's colour; a click on one shows its thread. The threads come from a
 * `CommentsModel` found when needed (it may be made after the editor); positions are
 * resolved by Yjs against the editor's `Y.Text` on every change of the text or the
 * threads.
 */
import { Extension, RangeSetBuilder, StateEffect } from '@codemirror/state';
import {
  Decoration,
  DecorationSet,
  EditorView,
  PluginValue,
  ViewPlugin,
  ViewUpdate
} from '@codemirror/view';
import { ISignal } from '@lumino/signaling';
import * as Y from 'yjs';

import { CommentsModel } from './model';
import { rangesIn, threadColor } from './ranges';

/** The class of a highlighted range; it carries `data-thread-id`. */
export const RANGE_CLASS = 'jp-collab-comment-range';

export interface ICommentHighlightOptions {
  /** The editor's text (`sharedModel.ysource`). */
  readonly ytext: Y.Text;
  /** The notebook cell's id (`undefined` in a text file). */
  readonly cellId?: string;
  /** The comments of the document, once there are (`null` until then). */
  readonly model: () => CommentsModel | null;
  /** Emits when the document's comments model was made or disposed. */
  readonly modelChanged: ISignal<any, unknown>;
  /** Show a thread (a click on its range). */
  readonly show: (threadId: string) => void;
}

const refresh = StateEffect.define<null>();

/** The extension; add it to an editor showing `ytext`. */
export function commentHighlight(options: ICommentHighlightOptions): Extension {
  const plugin = ViewPlugin.fromClass(
    class implements PluginValue {
      decorations: DecorationSet;

      constructor(readonly view: EditorView) {
        this.decorations = this._build();
        options.modelChanged.connect(this._onModel, this);
        this._onModel();
      }

      update(update: ViewUpdate): void {
        if (
          update.docChanged ||
          update.transactions.some(t => t.effects.some(e => e.is(refresh)))
        ) {
          this.decorations = this._build();
        }
      }

      destroy(): void {
        options.modelChanged.disconnect(this._onModel, this);
        this._model?.changed.disconnect(this._refresh, this);
      }

      private _onModel(): void {
        const model = options.model();
        if (model === this._model) {
          return;
        }
        this._model?.changed.disconnect(this._refresh, this);
        this._model = model;
        model?.changed.connect(this._refresh, this);
        this._refresh();
      }

      private _refresh(): void {
        // outside an update: a model change arrives from the socket
        queueMicrotask(() => this.view.dispatch({ effects: refresh.of(null) }));
      }

      private _build(): DecorationSet {
        const builder = new RangeSetBuilder<Decoration>();
        const model = this._model;
        if (!model) {
          return builder.finish();
        }
        const size = this.view.state.doc.length;
        for (const { thread, from, to } of rangesIn(options.ytext, model.threads, options.cellId)) {
          if (to > size) {
            continue; // the editor has not caught up with the text yet
          }
          builder.add(
            from,
            to,
            Decoration.mark({
              class: RANGE_CLASS,
              attributes: {
                'data-thread-id': thread.id,
                style: `background-color: ${threadColor(thread.id)}`,
                title: 'Comment: click to show the thread'
              }
            })
          );
        }
        return builder.finish();
      }

      private _model: CommentsModel | null = null;
    },
    {
      decorations: value => value.decorations,
      eventHandlers: {
        mousedown(event: MouseEvent) {
          const target = (event.target as HTMLElement | null)?.closest?.(`.${RANGE_CLASS}`);
          const id = target?.getAttribute('data-thread-id');
          if (id) {
            options.show(id);
          }
          return false; // the click still places the caret
        }
      }
    }
  );
  return plugin;
}
