/**
 * A status bar item: the current document's connection state and the head count the
 * Collaborators panel shows too (`3 here · 5 on server`). The plugin tells it which
 * shared model is current.
 */
import { Widget } from '@lumino/widgets';
import { Awareness } from 'y-protocols/awareness';

import { ConnectionState } from '../connection';
import { readUser } from '../cursors/model';
import { HeadCount } from '../presence/head-count';
import { ILiveDocument } from './live-documents';
import { CollabContentProvider } from './provider';

/**
 * The words for a connection state, as shown in the status bar.
 */
export function describeState(state: ConnectionState | null): string {
  if (state === null) {
    return 'connecting';
  }
  switch (state.status) {
    case 'connected':
      return state.synced ? 'connected' : 'syncing';
    case 'reconnecting':
      return 'reconnecting';
    default:
      return state.status;
  }
}

/**
 * Shows `<state> · <n> here · <m> on server` for the current live document; hidden for
 * others. Without a head count (no presence plugin) it counts the people in the
 * document's awareness: `<state> · <n> here`.
 */
export class CollabStatus extends Widget {
  constructor(provider: CollabContentProvider, headCount: HeadCount | null = null) {
    super();
    this._provider = provider;
    this._headCount = headCount;
    this.addClass('jp-collab-status');
    provider.documentChanged.connect(this._onDocumentChanged, this);
    headCount?.changed.connect(this._render, this);
    this._render();
  }

  /**
   * The shared model of the current document (`context.model.sharedModel`), or `null`.
   */
  set model(model: unknown) {
    const next = this._provider.documentOf(model) ?? null;
    if (next === this._document) {
      return;
    }
    this._awareness?.off('change', this._onAwareness);
    this._document = next;
    this._awareness = next?.model.awareness ?? null;
    this._awareness?.on('change', this._onAwareness);
    this._render();
  }

  /** The text currently shown, `''` when hidden. */
  get text(): string {
    if (this._document === null) {
      return '';
    }
    const state = this._provider.connectionOf(this._document.model)?.state ?? null;
    if (this._headCount !== null) {
      return `${describeState(state)} · ${this._headCount.text}`;
    }
    const people = new Set<string>();
    for (const [clientId, awareness] of this._awareness?.getStates() ?? []) {
      people.add(readUser(awareness)?.username ?? String(clientId));
    }
    return `${describeState(state)} · ${people.size} here`;
  }

  dispose(): void {
    this._headCount?.changed.disconnect(this._render, this);
    this._awareness?.off('change', this._onAwareness);
    this._awareness = null;
    super.dispose();
  }

  private _render(): void {
    const text = this.text;
    const state = this._document
      ? (this._provider.connectionOf(this._document.model)?.state.status ??
        'connecting')
      : 'none';
    this.node.textContent = text;
    this.node.dataset.status = state;
    this.node.title = text ? `Live document ${this._document?.path}: ${text}` : '';
    this.setHidden(text === '');
  }

  private _onDocumentChanged(_: unknown, document: ILiveDocument): void {
    if (document === this._document) {
      this._render();
    }
  }

  private _onAwareness = (): void => {
    this._render();
  };

  private readonly _provider: CollabContentProvider;
  private readonly _headCount: HeadCount | null;
  private _document: ILiveDocument | null = null;
  private _awareness: Awareness | null = null;
}

/**
 * The shared model of a document widget (`widget.context.model.sharedModel`), or
 * `null` for any other widget.
 */
export function sharedModelOf(widget: unknown): unknown {
  const context = (widget as { context?: { model?: { sharedModel?: unknown } } })
    ?.context;
  return context?.model?.sharedModel ?? null;
}
