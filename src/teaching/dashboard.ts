/**
 * The class dashboard: a main-area table of everyone on the server (or under one
 * folder), with where they are, their state, edits sparkline, typing speed, runs and the
 * last error, sortable, with a "stuck only" filter. Clicking a row opens their document
 * at their cell; "Follow" follows them. Owners only: the numbers come from the owners'
 * presence feed.
 */
import { Widget } from '@lumino/widgets';

import { isSafeColor, labelTextColor } from '../cursors/model';
import { initialsOf, PresenceModel } from '../presence/model';
import { ago } from '../execution/runs';
import {
  boardRows,
  IBoardRow,
  IBoardView,
  IPersonActivity,
  mergePresence,
  SortKey,
  sparkPoints
} from './activity';

/** Constructor options of `ClassDashboard`. */
export interface IClassDashboardOptions {
  readonly model: PresenceModel;
  /** Open the person's document at their cell. */
  readonly onOpen: (row: IPersonActivity) => void;
  /** Follow the person (`null`: following is not available). */
  readonly onFollow: ((username: string) => void) | null;
  /** This person's username (left out of the table). */
  readonly me: () => string | undefined;
}

const COLUMNS: ReadonlyArray<[SortKey | null, string]> = [
  ['name', 'Person'],
  ['document', 'Document'],
  ['state', 'State'],
  ['idle', 'Idle'],
  ['edits', 'Edits (10 min)'],
  ['typing', 'Typing'],
  ['runs', 'Runs'],
  ['error', 'Stuck?'],
  [null, '']
];

/**
 * A plain-DOM table rebuilt on each activity message (every 2 s at most); the header
 * and filters stay, so typing in the folder box keeps its focus.
 */
export class ClassDashboard extends Widget {
  constructor(options: IClassDashboardOptions) {
    super();
    this._options = options;
    this.id = 'jp-collab-class-dashboard';
    this.addClass('jp-collab-dashboard');
    this.title.label = 'Class dashboard';
    this.title.closable = true;
    this.node.appendChild(this._controls());
    this._notice.className = 'jp-collab-dashboard-notice';
    this.node.appendChild(this._notice);
    this._table.className = 'jp-collab-dashboard-table';
    this._table.appendChild(this._head());
    this._table.appendChild(this._body);
    this.node.appendChild(this._table);
    options.model.activityChanged.connect(this.render, this);
    options.model.changed.connect(this.render, this);
    this.render();
  }

  /** The current view (folder, filter, sort). */
  get view(): IBoardView {
    return this._view;
  }

  render(): void {
    const model = this._options.model;
    const now = model.activity?.now || Date.now() / 1000;
    if (!model.owner) {
      this._notice.textContent = 'Only the server’s owners see the class dashboard.';
      this._body.replaceChildren();
      return;
    }
    const me = this._options.me();
    const people = mergePresence(
      model.activity?.people ?? [],
      model.entries.values(),
      now
    ).filter(p => p.username !== me);
    const rows = boardRows(people, this._view, now);
    const stuck = rows.filter(r => r.stuck !== null).length;
    this._notice.textContent =
      people.length === 0
        ? 'Nobody is in a shared document.'
        : `${rows.length} shown · ${stuck} stuck`;
    this._body.replaceChildren(...rows.map(row => this._row(row, now)));
  }

  dispose(): void {
    this._options.model.activityChanged.disconnect(this.render, this);
    this._options.model.changed.disconnect(this.render, this);
    super.dispose();
  }

  private _controls(): HTMLElement {
    const bar = document.createElement('div');
    bar.className = 'jp-collab-dashboard-controls';
    const folder = document.createElement('input');
    folder.type = 'search';
    folder.placeholder = 'Folder (e.g. class1/)';
    folder.dataset.collabFolder = '';
    folder.addEventListener('input', () => {
      this._view = { ...this._view, folder: folder.value };
      this.render();
    });
    const stuckLabel = document.createElement('label');
    const stuck = document.createElement('input');
    stuck.type = 'checkbox';
    stuck.dataset.collabStuckOnly = '';
    stuck.addEventListener('change', () => {
      this._view = { ...this._view, stuckOnly: stuck.checked };
      this.render();
    });
    stuckLabel.append(stuck, ' Stuck only');
    stuckLabel.title = 'Their latest run failed, or they are idle while others in the folder work';
    bar.append(folder, stuckLabel);
    return bar;
  }

  private _head(): HTMLElement {
    const head = document.createElement('thead');
    const row = document.createElement('tr');
    for (const [key, label] of COLUMNS) {
      const th = document.createElement('th');
      th.textContent = label;
      if (key !== null) {
        th.dataset.collabSort = key;
        th.title = `Sort by ${label.toLowerCase()}`;
        th.addEventListener('click', () => {
          const descending = this._view.sort === key ? !this._view.descending : key !== 'name';
          this._view = { ...this._view, sort: key, descending };
          for (const other of Array.from(row.querySelectorAll<HTMLElement>('th'))) {
            delete other.dataset.collabSorted;
          }
          th.dataset.collabSorted = descending ? 'descending' : 'ascending';
          this.render();
        });
      }
      row.appendChild(th);
    }
    head.appendChild(row);
    return head;
  }

  private _row(row: IBoardRow, now: number): HTMLElement {
    const a = row.activity;
    const tr = document.createElement('tr');
    tr.className = 'jp-collab-dashboard-row';
    tr.dataset.collabUser = a.username;
    tr.dataset.collabPath = a.path;
    tr.dataset.collabState = a.state;
    if (row.stuck !== null) {
      tr.classList.add('jp-collab-stuck');
    }
    tr.title = `Open ${a.path} at ${a.label}’s cell`;
    tr.addEventListener('click', () => this._options.onOpen(a));

    const person = document.createElement('td');
    const avatar = document.createElement('span');
    avatar.className = 'jp-collab-avatar';
    // the colour comes from the feed: shown only when it is a plain CSS colour
    const safe = isSafeColor(a.color) ? a.color : null;
    avatar.style.backgroundColor = safe ?? 'var(--jp-brand-color1)';
    const text = safe ? labelTextColor(safe) : null;
    if (text !== null) {
      avatar.style.color = text;
    }
    avatar.textContent = initialsOf({ display_name: a.label });
    person.append(avatar, ` ${a.label}`);

    const place = cell(
      a.cellIndex === null ? a.path : `${a.path} · cell ${a.cellIndex + 1}`
    );
    const state = cell(a.state);
    state.dataset.collabState = a.state;
    const idle = cell(a.state === 'active' ? '—' : ago(now - a.lastActive).replace(' ago', ''));
    const spark = document.createElement('td');
    spark.appendChild(sparkline(a.spark, `${a.editsPerMin} edits in the last minute`));
    spark.append(` ${a.editsPerMin}/min`);
    const typing = cell(`${a.typingCpm} cpm`);
    typing.dataset.collabTyping = String(a.typingCpm);
    const runs = cell(`${a.runsOk} ok · ${a.runsError} error`);
    const stuck = cell(row.stuck ?? '');
    stuck.className = 'jp-collab-stuck-reason';

    const actions = document.createElement('td');
    const follow = document.createElement('button');
    follow.className = 'jp-mod-styled jp-collab-follow-button';
    follow.textContent = 'Follow';
    follow.dataset.collabFollow = a.username;
    const onFollow = this._options.onFollow;
    follow.disabled = onFollow === null;
    follow.addEventListener('click', event => {
      event.stopPropagation();
      onFollow?.(a.username);
    });
    actions.appendChild(follow);

    tr.append(person, place, state, idle, spark, typing, runs, stuck, actions);
    return tr;
  }

  private readonly _options: IClassDashboardOptions;
  private readonly _notice = document.createElement('p');
  private readonly _table = document.createElement('table');
  private readonly _body = document.createElement('tbody');
  private _view: IBoardView = { folder: '', stuckOnly: false, sort: 'error', descending: false };
}

function cell(text: string): HTMLElement {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

/**
 * An inline SVG sparkline of `values` (edits per 30 s over 10 minutes).
 */
export function sparkline(values: ReadonlyArray<number>, title: string): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'jp-collab-spark');
  svg.setAttribute('width', '60');
  svg.setAttribute('height', '14');
  svg.setAttribute('viewBox', '0 0 60 14');
  const label = document.createElementNS(ns, 'title');
  label.textContent = title;
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', sparkPoints(values.length ? values : [0, 0], 60, 14));
  line.setAttribute('fill', 'none');
  line.setAttribute('stroke', 'currentColor');
  line.setAttribute('stroke-width', '1.5');
  svg.append(label, line);
  return svg;
}
