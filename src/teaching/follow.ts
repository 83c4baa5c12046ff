/**
 * Follow mode: keep one's view on another person's document, cell and scroll, as their
 * awareness says (`cell`, `scroll`) and as the presence feed says which document they are
 * in. Any own action (a key, a click, the wheel) in the main area stops it, unless the
 * person is held by a presenter. A bar at the top says whom one follows.
 *
 * Presenting uses it too: everyone in a presented document follows the presenter's
 * connection (its awareness client id), in that document only.
 */
import { ISignal, Signal } from '@lumino/signaling';
import { Awareness } from 'y-protocols/awareness';

import { isRecord, isSafeColor } from '../cursors/model';
import { IPresenceEntry, PresenceModel } from '../presence/model';
import { lineOf } from './scroll';

/** Whom to follow. */
export interface IFollowTarget {
  readonly username: string;
  readonly label: string;
  /** Their awareness client id in `path` (presenting), or `null`: the feed says. */
  readonly clientId: number | null;
  /** The one document to follow them in (presenting), or `null`: wherever they go. */
  readonly path: string | null;
  /** A presenter holds their audience: own actions do not stop following. */
  readonly held: boolean;
  readonly presenter: boolean;
  /** Their colour in the rooms (a swatch on the bar); not shown unless a safe CSS colour. */
  readonly color?: string | null;
  /** Where to start when they are in several documents (the dashboard row one chose). */
  readonly startPath?: string | null;
}

/** What following needs of an open document view. */
export interface IFollowView {
  readonly path: string;
  readonly awareness: Awareness;
  /** Make `cell` active and scroll `scrollCell` (else `cell`) to the top. */
  showCell(cell: string | null, scrollCell: string | null): void;
  /** Reveal the followed person's caret (text files). */
  showCaret(clientId: number): void;
  /** Scroll so `line` (1-based) is at the top (text files; their `scroll.line`). */
  showLine?(line: number): void;
}

/** Constructor options of `Follower`. */
export interface IFollowerOptions {
  readonly presence: PresenceModel;
  /** Open (or reveal) a document, resolved once it is live; `null` if it cannot be. */
  open(path: string, type: 'notebook' | 'file'): Promise<IFollowView | null>;
  /** Where own actions are watched (the main area). */
  readonly root: HTMLElement;
}

/** Where a person's awareness state says they are. */
export function placeOf(state: unknown): { cell: string | null; scroll: string | null } {
  if (!isRecord(state)) {
    return { cell: null, scroll: null };
  }
  const scroll = isRecord(state.scroll) && typeof state.scroll.cell === 'string' ? state.scroll.cell : null;
  return { cell: typeof state.cell === 'string' ? state.cell : null, scroll };
}

/**
 * The words of the follow bar: `Following Alice`, `Alice is presenting`,
 * `Alice is presenting (you follow along)` when held.
 */
export function followText(target: IFollowTarget): string {
  if (!target.presenter) {
    return `Following ${target.label}`;
  }
  return target.held
    ? `${target.label} is presenting (you follow along)`
    : `${target.label} is presenting`;
}

/**
 * Which of a person's places (feed entries) to follow: active before idle, then the one
 * they moved in most recently (`movedAt`, higher is later), then `shown` (the document on
 * screen, so a tie does not make the view jump), then `preferred`, then feed order.
 *
 * The feed sends an entry again when its person changes cell, joins, or goes idle or
 * active, never while they type; the latest such change is the best sign of where they
 * are now, since switching tabs in JupyterLab closes no connection.
 */
export function choosePlace(
  candidates: ReadonlyArray<IPresenceEntry>,
  movedAt: (entry: IPresenceEntry) => number,
  shown: string | null,
  preferred: string | null
): IPresenceEntry | undefined {
  const score = (e: IPresenceEntry): number[] => [
    Number(!e.idle),
    movedAt(e),
    Number(e.path === shown),
    Number(e.path === preferred)
  ];
  let best: IPresenceEntry | undefined;
  let bestScore: number[] = [];
  for (const entry of candidates) {
    const s = score(entry);
    if (best === undefined || isHigher(s, bestScore)) {
      best = entry;
      bestScore = s;
    }
  }
  return best;
}

/** Lexicographic `a > b` of two equally long score lists. */
function isHigher(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return a[i] > b[i];
    }
  }
  return false;
}

/**
 * Follows one person at a time; `start` again to follow someone else.
 */
export class Follower {
  constructor(options: IFollowerOptions) {
    this._options = options;
    this._bar.className = 'jp-collab-follow-bar';
    this._bar.dataset.collabFollowBar = '';
    this._text.className = 'jp-collab-follow-text';
    this._stop.className = 'jp-mod-styled jp-collab-follow-stop';
    this._stop.dataset.collabStopFollow = '';
    this._stop.addEventListener('click', () => this.stop());
    this._swatch.className = 'jp-collab-follow-swatch';
    this._bar.append(this._swatch, this._text, this._stop);
    options.presence.changed.connect(this._sync, this);
  }

  /** Whom one follows now. */
  get target(): IFollowTarget | null {
    return this._target;
  }

  /** Emits when following starts or stops. */
  get changed(): ISignal<this, IFollowTarget | null> {
    return this._changed;
  }

  start(target: IFollowTarget): void {
    this._target = target;
    this._last = '';
    this._text.textContent = followText(target);
    this._stop.textContent = target.presenter ? 'Leave' : 'Stop';
    this._stop.hidden = target.held;
    this._bar.dataset.collabPresenter = String(target.presenter);
    this._bar.dataset.collabFollowing = target.username;
    this._showColor(target.color ?? null);
    // what the feed says now counts as old news: only later moves outrank `startPath`
    this._moves = new Map(
      [...this._options.presence.entries].map(([id, entry]) => [id, { entry, at: 0 }])
    );
    this._clock = 0;
    if (!this._bar.isConnected) {
      document.body.appendChild(this._bar);
      for (const kind of OWN_ACTIONS) {
        this._options.root.addEventListener(kind, this._onOwnAction, true);
      }
    }
    this._forgetView();
    this._changed.emit(target);
    this._sync();
  }

  stop(): void {
    if (this._target === null) {
      return;
    }
    this._target = null;
    this._forgetView();
    this._bar.remove();
    for (const kind of OWN_ACTIONS) {
      this._options.root.removeEventListener(kind, this._onOwnAction, true);
    }
    this._changed.emit(null);
  }

  dispose(): void {
    this.stop();
    this._options.presence.changed.disconnect(this._sync, this);
  }

  /** The person's colour as a swatch on the bar, or no swatch for an unsafe value. */
  private _showColor(color: string | null): void {
    const safe = isSafeColor(color) ? color.trim() : null;
    this._swatch.hidden = safe === null;
    this._swatch.style.background = safe ?? '';
  }

  /** Stamp the feed entries sent again since the last look with the next clock tick. */
  private _noteMoves(): void {
    const seen = new Map<string, { entry: IPresenceEntry; at: number }>();
    let tick: number | null = null;
    for (const [id, entry] of this._options.presence.entries) {
      const before = this._moves.get(id);
      if (before?.entry === entry) {
        seen.set(id, before);
      } else {
        tick ??= ++this._clock;
        seen.set(id, { entry, at: tick });
      }
    }
    this._moves = seen;
  }

  /** Find their document (the feed), open it if it is not the one shown, then follow. */
  private _sync(): void {
    const target = this._target;
    if (target === null) {
      return;
    }
    this._noteMoves();
    const entries = [...this._options.presence.entries.values()].filter(
      e =>
        e.user.username === target.username &&
        (target.path === null || e.path === target.path) &&
        (target.clientId === null || e.client_id === target.clientId)
    );
    const place = choosePlace(
      entries,
      e => this._moves.get(e.id)?.at ?? 0,
      this._opening ?? this._view?.path ?? null,
      target.startPath ?? null
    );
    if (!place) {
      this._text.textContent = `${followText(target)} · not in a shared document now`;
      return;
    }
    this._text.textContent = followText(target);
    this._clientId = target.clientId ?? place.client_id;
    if (this._view?.path === place.path || this._opening === place.path) {
      this._apply();
      return;
    }
    const request = ++this._request;
    this._opening = place.path;
    void this._options.open(place.path, place.type).then(view => {
      if (request !== this._request) {
        return; // another document (or person) was asked for since
      }
      this._opening = null;
      if (view !== null && this._target === target) {
        this._bind(view);
      }
    });
  }

  /** Let go of the document shown and of any still opening (its answer is ignored). */
  private _forgetView(): void {
    this._unbind();
    this._opening = null;
    this._request++;
  }

  private _bind(view: IFollowView): void {
    this._unbind();
    this._view = view;
    this._last = '';
    view.awareness.on('change', this._apply);
    this._apply();
  }

  private _unbind(): void {
    this._view?.awareness.off('change', this._apply);
    this._view = null;
  }

  /** Show where they are now, when that changed. */
  private readonly _apply = (): void => {
    const view = this._view;
    const clientId = this._clientId;
    if (view === null || clientId === null || this._target === null) {
      return;
    }
    const state = view.awareness.getStates().get(clientId);
    const { cell, scroll } = placeOf(state);
    const line = lineOf(state);
    const key = `${cell}\u0000${scroll}\u0000${line}`;
    if (key !== this._last) {
      this._last = key;
      view.showCell(cell, scroll);
      if (line !== null) {
        view.showLine?.(line);
      }
    }
    // after the line: their caret, if it is off our (maybe shorter) screen
    view.showCaret(clientId);
  };

  /** A key, click or wheel of one's own: stop, unless held (or on the bar itself). */
  private readonly _onOwnAction = (event: Event): void => {
    if (this._target === null || this._target.held) {
      return;
    }
    if (event.target instanceof Node && this._bar.contains(event.target)) {
      return;
    }
    this.stop();
  };

  private readonly _options: IFollowerOptions;
  private readonly _bar = document.createElement('div');
  private readonly _text = document.createElement('span');
  private readonly _stop = document.createElement('button');
  private readonly _swatch = document.createElement('span');
  private readonly _changed = new Signal<this, IFollowTarget | null>(this);
  private _target: IFollowTarget | null = null;
  private _view: IFollowView | null = null;
  private _opening: string | null = null;
  /** Counts `open` calls: only the answer to the latest one is bound. */
  private _request = 0;
  private _clientId: number | null = null;
  private _last = '';
  /** Each feed entry as last seen, and the tick when it was last sent again. */
  private _moves = new Map<string, { entry: IPresenceEntry; at: number }>();
  private _clock = 0;
}

const OWN_ACTIONS = ['keydown', 'mousedown', 'wheel', 'touchstart'] as const;
