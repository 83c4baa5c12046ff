/**
 * A document's own activity (docs/PROTOCOL.md, the room's `activity` event), shown in
 * it: "2 active · 40 edits/min · 1 concurrent edit" in the toolbar, and a marker on each
 * notebook cell where two people changed the same cell within seconds.
 */
import { Widget } from '@lumino/widgets';

import { IActivityEvent } from '../connection';
import { ago } from '../execution/runs';

/** The toolbar's words for a document's numbers. */
export function activityText(event: IActivityEvent): string {
  const parts = [`${event.people_active} active`, `${event.edits_per_min} edits/min`];
  const concurrent = event.concurrent.count;
  if (concurrent > 0) {
    parts.push(`${concurrent} concurrent edit${concurrent === 1 ? '' : 's'}`);
  }
  return parts.join(' · ');
}

/** The toolbar item; empty until the first event. */
export class DocumentActivityItem extends Widget {
  constructor() {
    super();
    this.addClass('jp-collab-doc-activity');
    this.node.title =
      'People active in the last minute, edits in the last minute, and times two people ' +
      'changed the same cell within seconds (last 10 minutes)';
  }

  showActivity(event: IActivityEvent): void {
    this.node.textContent = activityText(event);
    this.node.dataset.collabConcurrent = String(event.concurrent.count);
  }
}

/** What the markers need of a notebook (`Notebook` has it). */
export interface IMarkedNotebook {
  readonly widgets: ReadonlyArray<{
    readonly model: { readonly id: string };
    readonly node: HTMLElement;
  }>;
}

export const CONCURRENT_CLASS = 'jp-collab-concurrent';

/**
 * Put the concurrent-edit marker on the cells the latest event names, and take it off
 * the others. `now` in epoch seconds.
 */
export function markConcurrentCells(
  notebook: IMarkedNotebook,
  event: IActivityEvent | null,
  now: number
): void {
  const cells = event?.concurrent.cells ?? {};
  for (const cell of notebook.widgets) {
    const info = cells[cell.model.id];
    let badge = cell.node.querySelector<HTMLElement>(':scope > .jp-collab-concurrent-badge');
    cell.node.classList.toggle(CONCURRENT_CLASS, info !== undefined);
    if (info === undefined) {
      badge?.remove();
      continue;
    }
    if (!badge) {
      badge = document.createElement('span');
      badge.className = 'jp-collab-concurrent-badge';
      cell.node.appendChild(badge);
    }
    badge.textContent = `⇄ ${info.count}`;
    badge.dataset.collabConcurrentCount = String(info.count);
    badge.title =
      `Two people changed this cell at once ${info.count} time${info.count === 1 ? '' : 's'}` +
      ` in the last 10 minutes (the last ${ago(now - info.last)})`;
  }
}
