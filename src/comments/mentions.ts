/**
 * @mentions in comments: which usernames a message names, and the completer that offers
 * the people who may be mentioned while one types `@...` in a comment box.
 *
 * The list offered is a convenience, not a gate: the server refuses a mention of anyone
 * without a role on the document, and the panel shows its reason.
 */

/** Someone who may be mentioned: a username and the name people know them by. */
export interface IPerson {
  readonly username: string;
  readonly label: string;
}

/**
 * The usernames a message mentions: each `@word` that is someone's username, or the
 * first word of their name (`@Zoe` for a guest called Zoe), else the word itself (the
 * server refuses anyone without a role on the document, with a reason).
 *
 * The first person in `people` who matches a word wins: put the people picked from the
 * completer first, so two guests both called Zoe resolve to the one that was picked.
 */
export function mentionsIn(body: string, people: readonly IPerson[] = []): string[] {
  const found = body.match(/(?<![\w@])@([A-Za-z0-9][\w.:-]*)/g) ?? [];
  const words = found.map(m => m.slice(1).replace(/[.:-]+$/, ''));
  const usernames = words.map(word => {
    const lower = word.toLowerCase();
    const person =
      people.find(p => p.username === word) ??
      people.find(p => firstWord(p.label).toLowerCase() === lower) ??
      people.find(p => p.label.replace(/\s+/g, '').toLowerCase() === lower);
    return person?.username ?? word;
  });
  return [...new Set(usernames)];
}

/**
 * The `@...` being typed just before `caret`: where its `@` is and what follows it, or
 * `null` when the caret is not at the end of a mention (an e-mail address is not one).
 */
export function mentionAt(
  text: string,
  caret: number
): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const match = /(?:^|[^\w@])@([\w.:-]*)$/.exec(before);
  if (match === null) {
    return null;
  }
  return { start: caret - match[1].length - 1, query: match[1] };
}

/**
 * The people whose username or name starts with `query` (case-insensitive), those whose
 * name does first, at most `limit` of them.
 */
export function matchPeople(
  people: readonly IPerson[],
  query: string,
  limit = 8
): IPerson[] {
  const q = query.toLowerCase();
  const seen = new Set<string>();
  const byName: IPerson[] = [];
  const byUsername: IPerson[] = [];
  for (const person of people) {
    if (seen.has(person.username)) {
      continue;
    }
    seen.add(person.username);
    const words = person.label.toLowerCase().split(/\s+/);
    if (words.some(w => w.startsWith(q))) {
      byName.push(person);
    } else if (person.username.toLowerCase().startsWith(q)) {
      byUsername.push(person);
    }
  }
  return [...byName, ...byUsername].slice(0, limit);
}

/**
 * What to write after `@` for a person: their username when it reads as a word, else
 * (a guest's `guest:<link>:<id>`) the first word of their name, which `mentionsIn`
 * resolves back to them.
 */
export function handleOf(person: IPerson): string {
  if (/^[A-Za-z0-9][\w.-]*[A-Za-z0-9_]$|^[A-Za-z0-9]$/.test(person.username)) {
    return person.username;
  }
  return firstWord(person.label).replace(/[^\w.-]/g, '') || person.username;
}

function firstWord(label: string): string {
  return label.trim().split(/\s+/)[0] ?? '';
}

/**
 * A list under a comment box that offers people while `@...` is typed: arrows move,
 * Enter or Tab picks, Escape closes; a click picks too.
 */
export class MentionCompleter {
  constructor(
    readonly input: HTMLTextAreaElement,
    private readonly _people: () => readonly IPerson[]
  ) {
    this.node = document.createElement('ul');
    this.node.className = 'jp-collab-mention-list';
    this.node.setAttribute('role', 'listbox');
    this.node.hidden = true;
    input.addEventListener('input', this._update);
    input.addEventListener('keydown', this._onKeyDown);
    input.addEventListener('blur', this._close);
  }

  /** The list; the caller puts it in the page (after the box). */
  readonly node: HTMLUListElement;

  /** The people picked so far, to resolve their handles first (see `mentionsIn`). */
  get picked(): IPerson[] {
    return [...this._picked];
  }

  private readonly _update = (): void => {
    const at = mentionAt(this.input.value, this.input.selectionStart ?? 0);
    this._matches = at === null ? [] : matchPeople(this._people(), at.query);
    this._active = 0;
    this._draw();
  };

  private readonly _onKeyDown = (event: KeyboardEvent): void => {
    if (this.node.hidden) {
      return;
    }
    const n = this._matches.length;
    switch (event.key) {
      case 'ArrowDown':
        this._active = (this._active + 1) % n;
        break;
      case 'ArrowUp':
        this._active = (this._active + n - 1) % n;
        break;
      case 'Enter':
      case 'Tab':
        this.pick(this._matches[this._active]);
        break;
      case 'Escape':
        this._close();
        break;
      default:
        return;
    }
    // keep the key for the list: no newline, no focus change, no JupyterLab shortcut
    event.preventDefault();
    event.stopPropagation();
    this._draw();
  };

  private readonly _close = (): void => {
    this._matches = [];
    this._draw();
  };

  /** Put `@handle ` in place of the `@...` being typed. */
  pick(person: IPerson): void {
    const caret = this.input.selectionStart ?? this.input.value.length;
    const at = mentionAt(this.input.value, caret);
    if (at === null) {
      return;
    }
    const text = `@${handleOf(person)} `;
    const value = this.input.value;
    this.input.value = value.slice(0, at.start) + text + value.slice(caret);
    const end = at.start + text.length;
    this.input.setSelectionRange(end, end);
    this._picked = [person, ...this._picked.filter(p => p.username !== person.username)];
    this._matches = [];
    // let drafts and anything else listening know the text changed
    this.input.dispatchEvent(new Event('input'));
    this.input.focus();
  }

  private _draw(): void {
    this.node.hidden = this._matches.length === 0;
    this.node.replaceChildren(
      ...this._matches.map((person, i) => {
        const item = document.createElement('li');
        item.className = 'jp-collab-mention-item';
        item.setAttribute('role', 'option');
        item.dataset.username = person.username;
        item.classList.toggle('jp-mod-active', i === this._active);
        item.setAttribute('aria-selected', String(i === this._active));
        const handle = document.createElement('span');
        handle.className = 'jp-collab-mention-handle';
        handle.textContent = `@${handleOf(person)}`;
        item.append(person.label, ' ', handle);
        // mousedown, not click: the box must keep its focus (and its caret) meanwhile
        item.addEventListener('mousedown', event => {
          event.preventDefault();
          this.pick(person);
        });
        return item;
      })
    );
  }

  private _matches: IPerson[] = [];
  private _active = 0;
  private _picked: IPerson[] = [];
}
