/**
 * The body of the Share dialog: who holds which role on a file or folder (and can be
 * given one), and its share links (create with a label, a role and an expiry; see when
 * each expires, who made it, which guests joined and when it was last used; copy,
 * relabel, change the role, revoke). Plain DOM; every action goes through an
 * `ISharingAPI` and re-reads.
 */
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { IMembership, IShareLink, ISharingAPI } from '../api';

/** Roles people can be given, and roles links can give (never owner). */
export const PERSON_ROLES = ['viewer', 'commenter', 'editor', 'owner'];
export const LINK_ROLES = ['viewer', 'commenter', 'editor'];

/** The placeholder of label fields. */
export const LABEL_HINT = 'Label (e.g. Period 3)';

/** As many characters as the server takes for a label. */
export const MAX_LABEL = 80;

/** Expiry choices for new links, in seconds (`null`: until revoked). */
export const EXPIRIES: ReadonlyArray<[string, number | null]> = [
  ['1 hour', 3600],
  ['1 day', 86400],
  ['7 days', 7 * 86400],
  ['no expiry', null]
];

/**
 * Options of `SharePanel`.
 */
export interface ISharePanelOptions {
  /** The file or folder, relative to the server root. */
  readonly path: string;
  readonly api: ISharingAPI;
  /** Turns a link's relative URL into the absolute one people paste. */
  readonly absoluteUrl: (url: string) => string;
  /** Puts text on the clipboard. */
  readonly copy: (text: string) => Promise<void>;
  /** What "now" is, in seconds since the epoch (tests pass a fixed one). */
  readonly now?: () => number;
}

/**
 * People and links of one path; `refresh()` reads them again.
 */
export class SharePanel extends Widget {
  constructor(options: ISharePanelOptions) {
    super();
    this._options = options;
    this.addClass('jp-collab-share');
    this._status.className = 'jp-collab-share-status';
    this.node.append(this._people, this._links, this._status);
  }

  /**
   * Enter in one of the panel's fields does what the field is for (add a person, save a
   * label) instead of closing the dialog: the dialog takes Enter in its capture phase,
   * so this listens on the document, before it.
   */
  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    document.addEventListener('keydown', this._onKeydown, true);
  }

  protected onBeforeDetach(msg: Message): void {
    document.removeEventListener('keydown', this._onKeydown, true);
    super.onBeforeDetach(msg);
  }

  private _onKeydown = (event: KeyboardEvent): void => {
    const target = event.target as HTMLElement;
    const action = this._onEnter.get(target);
    if (event.key !== 'Enter' || action === undefined || !this.node.contains(target)) {
      return;
    }
    event.stopPropagation();
    event.preventDefault();
    action();
  };

  /** Resolves when the last refresh (or action) finished. */
  get ready(): Promise<void> {
    return this._ready;
  }

  /** Read people and links again and redraw. */
  refresh(): Promise<void> {
    this._ready = this._load();
    return this._ready;
  }

  private async _load(): Promise<void> {
    const { api, path } = this._options;
    try {
      const [members, links] = await Promise.all([api.members(path), api.links(path)]);
      this._renderPeople(members.members);
      this._renderLinks(links);
      this._say('');
    } catch (error) {
      this._say(`Could not read who has access: ${messageOf(error)}`, true);
    }
  }

  /** Run an action, say what went wrong if it did, then re-read. */
  private _act(what: string, action: () => Promise<unknown>): Promise<void> {
    this._ready = (async () => {
      try {
        await action();
      } catch (error) {
        this._say(`${what} failed: ${messageOf(error)}`, true);
        return;
      }
      await this._load();
    })();
    return this._ready;
  }

  private _renderPeople(members: IMembership[]): void {
    const { api, path } = this._options;
    const section = this._people;
    section.replaceChildren(heading('People'));
    const list = document.createElement('ul');
    list.className = 'jp-collab-share-people';
    for (const member of members) {
      const item = document.createElement('li');
      item.dataset.principal = member.principal;
      const name = document.createElement('span');
      name.className = 'jp-collab-share-name';
      name.textContent = member.principal;
      item.append(name);
      if (member.path === path.replace(/^\/+|\/+$/g, '')) {
        const role = select(PERSON_ROLES, member.role, 'Role');
        role.addEventListener('change', () =>
          void this._act('Changing the role', () =>
            api.grant(path, member.principal, role.value)
          )
        );
        const remove = button('Remove', () =>
          this._act('Removing', () => api.revoke(path, member.principal))
        );
        item.append(role, remove);
      } else {
        const inherited = document.createElement('span');
        inherited.className = 'jp-collab-share-inherited';
        inherited.textContent = `${member.role}, from /${member.path}`;
        item.append(inherited);
      }
      list.append(item);
    }
    if (members.length === 0) {
      list.append(note('Nobody has a role here yet besides the owners.'));
    }
    const who = document.createElement('input');
    who.placeholder = 'username';
    who.className = 'jp-collab-share-who';
    const role = select(PERSON_ROLES, 'editor', 'Role for the new person');
    const add = button('Add', () => {
      const principal = who.value.trim();
      if (!principal) {
        this._say('Enter a username first.', true);
        return Promise.resolve();
      }
      return this._act('Adding', () => api.grant(path, principal, role.value));
    });
    this._onEnter.set(who, () => add.click());
    const row = document.createElement('div');
    row.className = 'jp-collab-share-add';
    row.append(who, role, add);
    section.append(list, row);
  }

  private _renderLinks(links: IShareLink[]): void {
    const { api, path, absoluteUrl, copy } = this._options;
    const section = this._links;
    section.replaceChildren(heading('Links'));
    const list = document.createElement('ul');
    list.className = 'jp-collab-share-links';
    for (const link of links.filter(l => l.active)) {
      list.append(this._linkItem(link));
    }
    if (list.childElementCount === 0) {
      list.append(note('No active links. Guests who open a link need no account.'));
    }
    const label = labelInput('', 'Label of the new link');
    const role = select(LINK_ROLES, 'viewer', 'Role the new link gives');
    const expiry = select(
      EXPIRIES.map(([label]) => label),
      EXPIRIES[1][0],
      'The new link expires after'
    );
    const create = button('Create link', () =>
      this._act('Creating the link', async () => {
        const seconds = EXPIRIES.find(([label]) => label === expiry.value)?.[1] ?? null;
        const link = await api.createLink(path, role.value, seconds, label.value.trim());
        await copy(absoluteUrl(link.url)).catch(() => undefined);
      })
    );
    this._onEnter.set(label, () => create.click());
    const row = document.createElement('div');
    row.className = 'jp-collab-share-add jp-collab-share-new-link';
    row.append(label, role, expiry, create);
    section.append(list, row);
  }

  /**
   * One link: its label (edited in place), role, copy and revoke on the first line; when
   * it expires, who made it, and its guests and last use on the second.
   */
  private _linkItem(link: IShareLink): HTMLElement {
    const { api, path, absoluteUrl, copy } = this._options;
    const now = (this._options.now ?? (() => Date.now() / 1000))();
    const item = document.createElement('li');
    item.className = 'jp-collab-share-link';
    item.dataset.linkId = link.id;
    item.dataset.label = link.label;

    const label = labelInput(link.label, 'Label of this link');
    const saveLabel = (): void => {
      const value = label.value.trim();
      if (value !== link.label) {
        void this._act('Renaming the link', () =>
          api.updateLink(path, link.id, { label: value })
        );
      }
    };
    label.addEventListener('change', saveLabel);
    this._onEnter.set(label, () => label.blur()); // blur fires change once
    const role = select(LINK_ROLES, link.role, 'What the link gives');
    role.addEventListener('change', () =>
      void this._act('Changing the link', () =>
        api.updateLink(path, link.id, { role: role.value })
      )
    );
    const url = absoluteUrl(link.url);
    const copyButton = button('Copy link', async () => {
      await copy(url);
      this._say('Link copied.');
    });
    copyButton.dataset.url = url;
    const revoke = button('Revoke', () =>
      this._act('Revoking', () => api.revokeLink(path, link.id))
    );
    const main = document.createElement('div');
    main.className = 'jp-collab-share-link-main';
    main.append(label, role, copyButton, revoke);

    const expiry = span('jp-collab-share-expiry', describeExpiryDate(link.expires_at));
    if (link.expires_at !== null) {
      expiry.title = describeExpiry(link.expires_at, now);
    }
    const creator = span('jp-collab-share-creator', `created by ${link.created_by_name}`);
    creator.title = `${formatTime(link.created_at)} (${link.created_by})`;
    const details = document.createElement('div');
    details.className = 'jp-collab-share-details';
    details.append(expiry, dot(), creator, dot(), usage(link, now));

    item.append(main, details);
    return item;
  }

  private _say(text: string, error = false): void {
    this._status.textContent = text;
    this._status.dataset.error = String(error);
  }

  private readonly _options: ISharePanelOptions;
  private readonly _people = document.createElement('section');
  private readonly _links = document.createElement('section');
  private readonly _status = document.createElement('p');
  private readonly _onEnter = new WeakMap<HTMLElement, () => void>();
  private _ready: Promise<void> = Promise.resolve();
}

/** A time as this browser's locale writes a date and time ("12 Mar 2025, 14:30"). */
export function formatTime(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString(undefined, {
    dateStyle: 'medium',
    timeStyle: 'short'
  });
}

/** "expires 12 Mar 2025, 14:30", or "no expiry". */
export function describeExpiryDate(expiresAt: number | null): string {
  return expiresAt === null ? 'no expiry' : `expires ${formatTime(expiresAt)}`;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago". */
export function describeAgo(then: number, now: number): string {
  const seconds = Math.max(0, now - then);
  if (seconds < 60) {
    return 'just now';
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ago`;
  }
  if (seconds < 48 * 3600) {
    return `${Math.floor(seconds / 3600)} h ago`;
  }
  return `${Math.floor(seconds / 86400)} days ago`;
}

/** "1 guest joined · last used 5 min ago", "no guests yet". */
export function describeUsage(link: IShareLink, now: number): string {
  const count = link.guests.length;
  const joined =
    count === 0 ? 'no guests yet' : `${count} ${count === 1 ? 'guest' : 'guests'} joined`;
  return link.last_used_at === null
    ? joined
    : `${joined} · last used ${describeAgo(link.last_used_at, now)}`;
}

/**
 * A link's guests and last use: a line, unfolding to who joined and when (names also in
 * its tooltip).
 */
function usage(link: IShareLink, now: number): HTMLElement {
  const text = describeUsage(link, now);
  if (link.guests.length === 0) {
    return span('jp-collab-share-usage', text);
  }
  const element = document.createElement('details');
  element.className = 'jp-collab-share-usage';
  const summary = document.createElement('summary');
  summary.textContent = text;
  summary.title = link.guests.map(g => g.name).join(', ');
  const list = document.createElement('ul');
  list.className = 'jp-collab-share-guests';
  for (const guest of link.guests) {
    const item = document.createElement('li');
    item.textContent = `${guest.name}, joined ${formatTime(guest.joined_at)}`;
    list.append(item);
  }
  element.append(summary, list);
  return element;
}

function span(className: string, text: string): HTMLElement {
  const element = document.createElement('span');
  element.className = className;
  element.textContent = text;
  return element;
}

function dot(): HTMLElement {
  return span('jp-collab-share-dot', '·');
}

function labelInput(value: string, label: string): HTMLInputElement {
  const element = document.createElement('input');
  element.className = 'jp-collab-share-label';
  element.placeholder = LABEL_HINT;
  element.maxLength = MAX_LABEL;
  element.value = value;
  element.setAttribute('aria-label', label);
  return element;
}

/** "expires in 3 hours", "expires in 2 days", "no expiry". */
export function describeExpiry(expiresAt: number | null, now: number): string {
  if (expiresAt === null) {
    return 'no expiry';
  }
  const hours = (expiresAt - now) / 3600;
  if (hours < 1) {
    return `expires in ${Math.max(1, Math.round(hours * 60))} min`;
  }
  if (hours < 48) {
    return `expires in ${Math.round(hours)} h`;
  }
  return `expires in ${Math.round(hours / 24)} days`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function heading(text: string): HTMLElement {
  const h = document.createElement('h3');
  h.textContent = text;
  return h;
}

function note(text: string): HTMLElement {
  const p = document.createElement('li');
  p.className = 'jp-collab-share-note';
  p.textContent = text;
  return p;
}

function select(options: ReadonlyArray<string>, value: string, label: string): HTMLSelectElement {
  const element = document.createElement('select');
  element.setAttribute('aria-label', label);
  for (const option of options) {
    const item = document.createElement('option');
    item.value = item.textContent = option;
    element.append(item);
  }
  element.value = value;
  return element;
}

function button(label: string, onClick: () => Promise<unknown>): HTMLButtonElement {
  const element = document.createElement('button');
  element.className = 'jp-mod-styled';
  element.textContent = label;
  element.addEventListener('click', () => void onClick());
  return element;
}
