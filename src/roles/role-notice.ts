/**
 * Telling people their role changed: "Your role on lesson.ipynb is now editor: you can
 * edit it." Once per change; changes that arrive together (an owner changed a link or a
 * membership on a folder, and several open documents heard it) make one notice per role.
 */
import { PathExt } from '@jupyterlab/coreutils';

/** What each role lets a person do, as the end of a sentence. */
const CAN: Record<string, string> = {
  viewer: 'you can read it and follow others live, not edit it',
  commenter: 'you can read it, not edit it',
  editor: 'you can edit it',
  owner: 'you can edit and share it'
};

/** Notifications show about this many characters. */
const MAX_LENGTH = 120;

/**
 * The notice for one new role on one or more documents.
 *
 * Args:
 *   paths: the documents, in the order their changes arrived (at least one).
 *   role: the new role.
 */
export function roleChangeNotice(paths: ReadonlyArray<string>, role: string): string {
  const names = [...new Set(paths.map(p => PathExt.basename(p) || p))];
  if (names.length === 1) {
    const can = CAN[role];
    const sentence = `Your role on ${names[0]} is now ${role}`;
    return can && sentence.length + can.length + 3 <= MAX_LENGTH
      ? `${sentence}: ${can}.`
      : `${sentence}.`;
  }
  const others = names.length - 1;
  const documents = others > 1 ? `${others} other documents` : '1 other document';
  return `Your role on ${names[0]} and ${documents} is now ${role}.`;
}

/** Options of `RoleNotices`. */
export interface IRoleNoticesOptions {
  /** Shows one notice (JupyterLab's `Notification.info` in the app). */
  readonly show: (message: string) => void;
  /** How long to gather changes that arrive together, in ms. */
  readonly gatherMs?: number;
}

/**
 * Gathers role changes for a moment, then shows one notice per new role.
 */
export class RoleNotices {
  constructor(options: IRoleNoticesOptions) {
    this._show = options.show;
    this._gatherMs = options.gatherMs ?? 250;
  }

  /** A document's role changed to `role`. */
  add(path: string, role: string): void {
    // a later change of the same document replaces an earlier one not shown yet
    for (const paths of this._pending.values()) {
      const index = paths.indexOf(path);
      if (index >= 0) {
        paths.splice(index, 1);
      }
    }
    const paths = this._pending.get(role) ?? [];
    paths.push(path);
    this._pending.set(role, paths);
    if (this._timer === null) {
      this._timer = setTimeout(() => this.flush(), this._gatherMs);
    }
  }

  /** Show what was gathered now. */
  flush(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    const pending = this._pending;
    this._pending = new Map();
    for (const [role, paths] of pending) {
      if (paths.length > 0) {
        this._show(roleChangeNotice(paths, role));
      }
    }
  }

  private readonly _show: (message: string) => void;
  private readonly _gatherMs: number;
  private _pending = new Map<string, string[]>();
  private _timer: ReturnType<typeof setTimeout> | null = null;
}
