/**
 * The History panel: the versions of the current document, newest first, each with
 * when, its kind, its authors and what changed, filtered by person; buttons to preview
 * a version, compare it with now and restore it; "Name this version…"; the history's
 * size at the bottom.
 *
 * The server decides who may name and restore; the panel only hides those buttons from
 * roles that may not edit, and shows the server's reason when it refuses.
 */
import {
  Dialog,
  InputDialog,
  Notification,
  showDialog,
  showErrorMessage
} from '@jupyterlab/apputils';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { DocumentType } from '../api';
import { canEdit, Role } from '../connection';
import { IHistoryAPI } from './api';
import {
  authorsOf,
  IHistory,
  IVersion,
  kindText,
  listedVersions,
  sizeText,
  summaryText,
  whenText
} from './model';
import { el, historyIcon, VersionComparison, VersionPreview, versionLabel } from './views';

/** The document the panel shows. */
export interface IHistoryContext {
  readonly path: string;
  readonly type: DocumentType;
  /** This person's role there, now (it may change while the panel is open). */
  role(): Role | null;
}

export interface IHistoryPanelOptions {
  readonly api: IHistoryAPI;
  /** Show a preview or a comparison in the main area. */
  readonly open: (view: Widget) => void;
}

/** How often the relative times are written again while the panel shows. */
const TICK_MS = 30_000;

/**
 * The side panel. `context` follows the current document (`null`: none of ours).
 */
export class HistoryPanel extends Widget {
  constructor(options: IHistoryPanelOptions) {
    super();
    this._api = options.api;
    this._open = options.open;
    this.addClass('jp-collab-history');
    this.title.icon = historyIcon;
    this.title.caption = 'History';
    this._header = el('div', 'jp-collab-history-header', 'History');
    const tools = el('div', 'jp-collab-history-tools');
    this._nameButton = el('button', 'jp-collab-history-button', 'Name this version…');
    this._nameButton.title = 'Keep the document as it is now as a named version';
    this._nameButton.onclick = () => void this._name();
    const refresh = el('button', 'jp-collab-history-button', 'Refresh');
    refresh.onclick = () => void this.refresh(true);
    this._person = el('select', 'jp-collab-history-person');
    this._person.title = 'Show the versions one person changed';
    this._person.onchange = () => this.render();
    tools.append(this._nameButton, refresh, this._person);
    this._list = el('div', 'jp-collab-history-list');
    this._empty = el('div', 'jp-collab-history-empty');
    this._footer = el('div', 'jp-collab-history-footer');
    this.node.append(this._header, tools, this._list, this._empty, this._footer);
  }

  get context(): IHistoryContext | null {
    return this._context;
  }

  set context(context: IHistoryContext | null) {
    if (context === this._context) {
      return;
    }
    this._context = context;
    this._history = null;
    this._error = '';
    this._person.value = '';
    this.render();
    void this.refresh();
  }

  /**
   * Read the versions again (now if the panel shows, else when it is shown next).
   * `loud`: a failure is shown in a dialog too, not only in the panel.
   */
  async refresh(loud = false): Promise<void> {
    const context = this._context;
    if (!context) {
      return;
    }
    if (!this.isVisible) {
      this._stale = true;
      return;
    }
    this._stale = false;
    const asked = ++this._asked;
    try {
      const history = await this._api.list(context.path);
      if (asked === this._asked && context === this._context) {
        this._history = history;
        this._error = '';
      }
    } catch (error) {
      if (asked !== this._asked || context !== this._context) {
        return;
      }
      this._error = reasonOf(error);
      if (loud) {
        void showErrorMessage('History not loaded', error as Error);
      }
    }
    this.render();
  }

  /** Draw the panel from what it last read. */
  render(): void {
    const context = this._context;
    const history = context ? this._history : null;
    const writer = canEdit(context?.role() ?? '');
    this._header.textContent = context ? `History of ${context.path}` : 'History';
    this._nameButton.hidden = !context || !writer;
    this._renderPeople(history);
    const person = this._person.value || null;
    const versions = history ? listedVersions(history.versions, person) : [];
    const now = Date.now() / 1000;
    this._list.replaceChildren(
      ...versions.map(version => this._versionNode(history!, version, writer, now))
    );
    this._empty.textContent = !context
      ? 'Open a notebook or a file to see its history.'
      : this._error
        ? `History not loaded: ${this._error}`
        : !history
          ? 'Loading…'
          : versions.length === 0
            ? person
              ? `No version with changes by ${person}.`
              : 'No versions yet.'
            : '';
    this._footer.textContent = history ? `History: ${sizeText(history.size.bytes)}` : '';
    this._footer.title = history
      ? `${history.size.rows} stored changes, ${history.size.snapshots} snapshots`
      : '';
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._shown();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (this.isVisible) {
      this._shown();
    }
  }

  protected onBeforeHide(msg: Message): void {
    super.onBeforeHide(msg);
    window.clearInterval(this._tick);
  }

  protected onBeforeDetach(msg: Message): void {
    window.clearInterval(this._tick);
    super.onBeforeDetach(msg);
  }

  dispose(): void {
    window.clearInterval(this._tick);
    super.dispose();
  }

  /** Now visible: read the versions if they may have changed, keep the times fresh. */
  private _shown(): void {
    window.clearInterval(this._tick);
    this._tick = window.setInterval(() => this.render(), TICK_MS);
    if (this._stale || !this._history) {
      void this.refresh();
    } else {
      this.render();
    }
  }

  private _renderPeople(history: IHistory | null): void {
    const chosen = this._person.value;
    const people = history ? authorsOf(history.versions) : [];
    if (chosen && !people.includes(chosen)) {
      people.push(chosen);
    }
    const key = people.join('\n');
    if (this._person.dataset.people !== key) {
      this._person.dataset.people = key;
      const everyone = el('option', '', 'Everyone');
      everyone.value = '';
      this._person.replaceChildren(
        everyone,
        ...people.map(username => {
          const option = el('option', '', username);
          option.value = username;
          return option;
        })
      );
      this._person.value = chosen;
    }
  }

  private _versionNode(
    history: IHistory,
    version: IVersion,
    writer: boolean,
    now: number
  ): HTMLElement {
    const node = el('div', 'jp-collab-history-version');
    node.dataset.kind = version.kind;
    const head = el('div', 'jp-collab-history-version-head');
    const when = el('span', 'jp-collab-history-when', whenText(version, now));
    when.title = new Date(version.created_at * 1000).toLocaleString();
    const kind = el('span', 'jp-collab-history-kind', kindText(version));
    const how = version.kind === 'named' ? 'named' : 'restored';
    kind.title =
      version.kind === 'auto'
        ? `version ${version.id}, made automatically`
        : `version ${version.id}, ${how} by ${version.by ?? 'someone'}`;
    head.append(when, kind);
    const authors = el(
      'div',
      'jp-collab-history-authors',
      version.authors.length > 0 ? version.authors.join(', ') : 'nobody'
    );
    authors.title = 'Who changed the document since the version before';
    const summary = el(
      'div',
      'jp-collab-history-summary',
      summaryText(version.summary, history.type)
    );
    const actions = el('div', 'jp-collab-history-actions');
    const button = (label: string, title: string, act: () => Promise<void>) => {
      const b = el('button', 'jp-collab-history-button', label);
      b.title = title;
      b.onclick = () => void act();
      actions.appendChild(b);
    };
    button('Preview', 'Show the document as it was at this version', () =>
      this._preview(history.path, version)
    );
    button('Compare with now', 'Show what changed from this version to now', () =>
      this._compare(history.path, version)
    );
    if (writer) {
      button('Restore', 'Put this version back, for everyone', () =>
        this._restore(history.path, version)
      );
    }
    node.append(head, authors, summary, actions);
    return node;
  }

  private async _preview(path: string, version: IVersion): Promise<void> {
    try {
      const preview = await this._api.preview(path, version.id);
      this._open(
        new VersionPreview({
          preview,
          canRestore: () => canEdit(this._context?.role() ?? ''),
          restoreCell: cell => void this._restore(path, version, cell)
        })
      );
    } catch (error) {
      void showErrorMessage('Preview failed', error as Error);
    }
  }

  private async _compare(path: string, version: IVersion): Promise<void> {
    try {
      this._open(new VersionComparison(await this._api.compare(path, version.id, 'current')));
    } catch (error) {
      void showErrorMessage('Comparison failed', error as Error);
    }
  }

  private async _restore(path: string, version: IVersion, cell?: string): Promise<void> {
    const what = cell === undefined ? 'the document' : 'this cell';
    const result = await showDialog({
      title: cell === undefined ? 'Restore this version?' : 'Restore this cell?',
      body:
        `${what[0].toUpperCase()}${what.slice(1)} will be put back as it was at ` +
        `${versionLabel(version, Date.now() / 1000)}, for everyone editing ${path}. ` +
        'The state just before is kept as a version, so this can be undone.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Restore' })]
    });
    if (!result.button.accept) {
      return;
    }
    try {
      await this._api.restore(path, version.id, cell);
      const done = cell === undefined ? `version ${version.id}` : `a cell of version ${version.id}`;
      Notification.success(`Restored ${done}`, { autoClose: 4000 });
    } catch (error) {
      void showErrorMessage('Restore refused', error as Error);
    }
    void this.refresh();
  }

  private async _name(): Promise<void> {
    const context = this._context;
    if (!context) {
      return;
    }
    const result = await InputDialog.getText({
      title: 'Name this version',
      label: `A name for ${context.path} as it is now`,
      placeholder: 'before refactor'
    });
    const name = result.value?.trim() ?? '';
    if (!result.button.accept || !name) {
      return;
    }
    try {
      await this._api.name(context.path, name);
    } catch (error) {
      void showErrorMessage('Version not named', error as Error);
    }
    void this.refresh();
  }

  private readonly _api: IHistoryAPI;
  private readonly _open: (view: Widget) => void;
  private readonly _header: HTMLElement;
  private readonly _nameButton: HTMLButtonElement;
  private readonly _person: HTMLSelectElement;
  private readonly _list: HTMLElement;
  private readonly _empty: HTMLElement;
  private readonly _footer: HTMLElement;
  private _context: IHistoryContext | null = null;
  private _history: IHistory | null = null;
  private _error = '';
  private _stale = false;
  private _asked = 0;
  private _tick = 0;
}

/** The server's reason for a failed request, or the error's message. */
function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
