/**
 * One head count for the status bar and the Collaborators panel: how many people are in
 * the current document ("here") and how many are connected anywhere on the server that
 * this user may see ("on server"). Both widgets render `text`, so they never disagree.
 *
 * People, not connections: one person with three tabs counts once, and the source is the
 * presence feed (server-side connections), not the document's awareness states.
 */
import { ISignal, Signal } from '@lumino/signaling';

import { PresenceModel } from './model';

/**
 * The two numbers, and whether there is a current document to count "here" in.
 */
export interface IHeadCount {
  /** People in the current document; `null` when no live document is current. */
  readonly here: number | null;
  /** People connected to any document this user may see. */
  readonly onServer: number;
}

/**
 * Count distinct people: in `path` (when given) and on the whole feed.
 */
export function countHeads(model: PresenceModel, path: string | null): IHeadCount {
  const everyone = new Set<string>();
  const here = new Set<string>();
  for (const entry of model.entries.values()) {
    const person = entry.user.username ?? entry.id;
    everyone.add(person);
    if (path !== null && entry.path === path) {
      here.add(person);
    }
  }
  return { here: path === null ? null : here.size, onServer: everyone.size };
}

/**
 * `3 here · 5 on server`, or `5 on server` with no current document.
 */
export function describeHeadCount(count: IHeadCount): string {
  const server = `${count.onServer} on server`;
  return count.here === null ? server : `${count.here} here · ${server}`;
}

/**
 * The head count of the current document, kept fresh from the presence feed.
 */
export class HeadCount {
  constructor(model: PresenceModel) {
    this._model = model;
    model.changed.connect(this._update, this);
    this._count = countHeads(model, null);
  }

  /** Emits when the numbers (or the current document) changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * The path of the current live document (relative to the server root), or `null`
   * when the current widget is not a live document.
   */
  get path(): string | null {
    return this._path;
  }

  set path(path: string | null) {
    if (path !== this._path) {
      this._path = path;
      this._update();
    }
  }

  get count(): IHeadCount {
    return this._count;
  }

  /** `3 here · 5 on server` (see `describeHeadCount`). */
  get text(): string {
    return describeHeadCount(this._count);
  }

  dispose(): void {
    this._model.changed.disconnect(this._update, this);
    Signal.clearData(this);
  }

  private _update(): void {
    const next = countHeads(this._model, this._path);
    const same = next.here === this._count.here && next.onServer === this._count.onServer;
    this._count = next;
    if (!same) {
      this._changed.emit();
    }
  }

  private readonly _model: PresenceModel;
  private _path: string | null = null;
  private _count: IHeadCount;
  private readonly _changed = new Signal<this, void>(this);
}
