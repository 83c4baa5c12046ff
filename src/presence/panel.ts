/**
 * The Collaborators side panel: everyone connected to this server, where each one is,
 * who is idle, and the head count the status bar shows too. Clicking a person (or one
 * of their places) calls `onOpen`, which the plugin turns into "open that document and
 * scroll to their cursor"; clicking oneself calls `onMe` (set one's display name).
 */
import { Widget } from '@lumino/widgets';

import { labelTextColor } from '../cursors/model';
import { personSummary } from '../teaching/activity';
import { sparkline } from '../teaching/dashboard';
import { HeadCount } from './head-count';
import { describePlace, IPerson, IPresenceEntry, PresenceModel } from './model';

/**
 * Constructor options of `CollaboratorsPanel`.
 */
export interface ICollaboratorsPanelOptions {
  readonly model: PresenceModel;
  /** The local user's username, to list them first as "(you)". */
  readonly me: () => string | undefined;
  /** Go to a person's place. */
  readonly onOpen: (entry: IPresenceEntry) => void;
  /** "<n> here · <m> on server", shared with the status bar. */
  readonly headCount: HeadCount;
  /** The local user clicked their own entry (their first place); default: `onOpen`. */
  readonly onMe?: (entry: IPresenceEntry) => void;
  /** What clicking one's own entry does, for its tooltip. */
  readonly meCaption?: () => string;
}

/**
 * A plain-DOM list, rebuilt on each model change (a few hundred rows at most, and
 * changes are batched by the server to at most five a second).
 */
export class CollaboratorsPanel extends Widget {
  constructor(options: ICollaboratorsPanelOptions) {
    super();
    this._options = options;
    this.addClass('jp-collab-people');
    this.title.caption = 'Collaborators';
    options.model.changed.connect(this.render, this);
    options.model.activityChanged.connect(this.render, this);
    options.headCount.changed.connect(this.render, this);
    this.render();
  }

  /** Rebuild the list from the model. */
  render(): void {
    const me = this._options.me();
    const people = this._options.model.people(me);
    const node = this.node;
    node.replaceChildren();

    const header = document.createElement('header');
    header.className = 'jp-collab-people-header';
    header.textContent = 'Collaborators';
    const count = document.createElement('span');
    count.className = 'jp-collab-headcount';
    count.textContent = this._options.headCount.text;
    count.title =
      'People (not tabs) in the current document, and connected to any document you can see';
    header.appendChild(count);
    node.appendChild(header);

    if (people.length === 0) {
      const empty = document.createElement('p');
      empty.className = 'jp-collab-people-empty';
      empty.textContent = 'Nobody has a shared document open.';
      node.appendChild(empty);
      return;
    }
    const list = document.createElement('ul');
    list.className = 'jp-collab-people-list';
    for (const person of people) {
      list.appendChild(this._personNode(person, person.username === me));
    }
    node.appendChild(list);
  }

  dispose(): void {
    this._options.model.changed.disconnect(this.render, this);
    this._options.model.activityChanged.disconnect(this.render, this);
    this._options.headCount.changed.disconnect(this.render, this);
    super.dispose();
  }

  private _personNode(person: IPerson, isMe: boolean): HTMLElement {
    const item = document.createElement('li');
    item.className = 'jp-collab-person';
    item.dataset.username = person.username;
    item.dataset.idle = String(person.idle);

    const row = document.createElement('button');
    row.className = 'jp-collab-person-row';
    const onMe = isMe ? this._options.onMe : undefined;
    row.title = (isMe && this._options.meCaption?.()) || `Go to ${person.label}`;
    row.appendChild(avatarNode(person));
    const name = document.createElement('span');
    name.className = 'jp-collab-person-name';
    name.textContent = isMe ? `${person.label} (you)` : person.label;
    row.appendChild(name);
    const role = person.places[0].role;
    if (role) {
      const badge = document.createElement('span');
      badge.className = 'jp-collab-role';
      badge.dataset.role = role;
      badge.textContent = role;
      badge.title = `${person.label} is ${role === 'owner' ? 'an' : 'a'} ${role} of ${person.places[0].path}`;
      row.appendChild(badge);
    }
    // owners see each person's last 10 minutes and typing speed (the owners' feed)
    const activity = this._options.model.activity;
    const summary = activity ? personSummary(activity.people, person.username) : null;
    if (summary !== null) {
      row.appendChild(
        sparkline(summary.spark, `${summary.editsPerMin} edits in the last minute`)
      );
      const typing = document.createElement('span');
      typing.className = 'jp-collab-typing';
      typing.dataset.collabTyping = String(summary.typingCpm);
      typing.textContent = `${summary.typingCpm} cpm`;
      typing.title = 'Characters typed in the last minute';
      row.appendChild(typing);
    }
    if (person.idle) {
      const idle = document.createElement('span');
      idle.className = 'jp-collab-person-idle';
      idle.textContent = 'idle';
      row.appendChild(idle);
    }
    row.addEventListener('click', () =>
      (onMe ?? this._options.onOpen)(person.places[0])
    );
    item.appendChild(row);

    const places = document.createElement('ul');
    places.className = 'jp-collab-places';
    for (const entry of person.places) {
      const place = document.createElement('li');
      const link = document.createElement('button');
      link.className = 'jp-collab-place';
      link.dataset.path = entry.path;
      link.dataset.idle = String(entry.idle);
      link.textContent = describePlace(entry);
      link.title = `Open ${entry.path} at ${person.label}’s cursor`;
      link.addEventListener('click', () => this._options.onOpen(entry));
      place.appendChild(link);
      places.appendChild(place);
    }
    item.appendChild(places);
    return item;
  }

  private readonly _options: ICollaboratorsPanelOptions;
}

/**
 * A round avatar: the picture when the server gave one, else initials on the user's
 * colour.
 */
export function avatarNode(person: {
  label: string;
  initials: string;
  color: string;
  avatarUrl: string | null;
}): HTMLElement {
  const avatar = document.createElement('span');
  avatar.className = 'jp-collab-avatar';
  avatar.style.backgroundColor = person.color;
  const text = labelTextColor(person.color);
  if (text !== null) {
    avatar.style.color = text;
  }
  avatar.title = person.label;
  if (person.avatarUrl) {
    const image = document.createElement('img');
    image.src = person.avatarUrl;
    image.alt = person.initials;
    avatar.appendChild(image);
  } else {
    avatar.textContent = person.initials;
  }
  return avatar;
}
