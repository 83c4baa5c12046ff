/**
 * The main-area views of the History panel: a version's read-only preview (a notebook's
 * cells with their type, execution count, source and output text, or a file's text) and
 * the comparison of a version with the document now (cells added in green, removed in
 * red, changed ones with their line diff; for files the unified diff coloured).
 *
 * Everything from the server goes in as text nodes: nothing is rendered as HTML.
 */
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import {
  ICell,
  ICellChange,
  IComparison,
  IDiffLine,
  IPreview,
  IVersion,
  kindText,
  whenText
} from './model';

/** A clock with its hands, for the panel's tab and the views. */
export const historyIcon = new LabIcon({
  name: 'jupyter-collab:history',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M12 2.5a9.5 9.5 0 1 1 0 19 9.5 9.5 0 0 1 0-19zm0 2a7.5 7.5 0 1 0 0 15 7.5 7.5 0 0 0 0-15zM11 6.5h2v5.1l3.6 2.1-1 1.7-4.6-2.7z"/>' +
    '</svg>'
});

/** A version in a few words: `version 12 (before refactor, 5 min ago)`. */
export function versionLabel(version: IVersion, now: number): string {
  return `version ${version.id} (${kindText(version)}, ${whenText(version, now)})`;
}

export interface IPreviewOptions {
  readonly preview: IPreview;
  /** Whether this person may restore (re-read at each click: roles change). */
  readonly canRestore: () => boolean;
  /** Put one cell of the previewed version back. */
  readonly restoreCell: (cellId: string) => void;
}

/** What a document was at one version, read-only. */
export class VersionPreview extends Widget {
  constructor(options: IPreviewOptions) {
    super();
    const { preview } = options;
    this.addClass('jp-collab-history-view');
    this.addClass('jp-collab-history-preview');
    const now = Date.now() / 1000;
    this.title.label = `${basename(preview.path)} @ v${preview.version.id}`;
    this.title.caption = `${preview.path} at ${versionLabel(preview.version, now)}`;
    this.title.icon = historyIcon;
    this.node.appendChild(
      el('div', 'jp-collab-history-view-header', `${this.title.caption} · read-only`)
    );
    if (preview.type === 'file') {
      this.node.appendChild(el('pre', 'jp-collab-history-source', preview.text));
      return;
    }
    if (preview.cells.length === 0) {
      this.node.appendChild(el('div', 'jp-collab-history-empty', 'No cells.'));
    }
    for (const cell of preview.cells) {
      const node = cellNode(cell);
      const cellId = cell.id;
      if (cellId !== null && options.canRestore()) {
        const button = el('button', 'jp-collab-history-button', 'Restore this cell');
        button.title = 'Put this cell back as it was in this version';
        button.onclick = () => options.restoreCell(cellId);
        node.querySelector('.jp-collab-history-cell-head')?.appendChild(button);
      }
      this.node.appendChild(node);
    }
  }
}

/** What changed from a version to the document now (or to a later version). */
export class VersionComparison extends Widget {
  constructor(comparison: IComparison) {
    super();
    this.addClass('jp-collab-history-view');
    this.addClass('jp-collab-history-comparison');
    const now = Date.now() / 1000;
    const from = versionLabel(comparison.from, now);
    const to = comparison.to === null ? 'now' : versionLabel(comparison.to, now);
    const toShort = comparison.to === null ? 'now' : `v${comparison.to.id}`;
    this.title.label = `${basename(comparison.path)} v${comparison.from.id} ↔ ${toShort}`;
    this.title.caption = `${comparison.path}: ${from} compared with ${to}`;
    this.title.icon = historyIcon;
    this.node.appendChild(
      el('div', 'jp-collab-history-view-header', `${comparison.path}: from ${from} to ${to}`)
    );
    if (comparison.type === 'file') {
      if (comparison.lines.length === 0) {
        this.node.appendChild(el('div', 'jp-collab-history-empty', 'No changes.'));
      } else {
        this.node.appendChild(linesNode(comparison.lines));
      }
      return;
    }
    if (comparison.metadataChanged) {
      const note = "The notebook's metadata changed.";
      this.node.appendChild(el('div', 'jp-collab-history-note', note));
    }
    if (comparison.cells.every(c => c.kind === 'same')) {
      this.node.appendChild(el('div', 'jp-collab-history-empty', 'No cell changed.'));
    }
    // unchanged cells in a row fold into one line that opens
    let unchanged: ICell[] = [];
    const flush = () => {
      if (unchanged.length > 0) {
        this.node.appendChild(unchangedNode(unchanged));
        unchanged = [];
      }
    };
    for (const change of comparison.cells) {
      if (change.kind === 'same') {
        unchanged.push(change.cell);
        continue;
      }
      flush();
      this.node.appendChild(changeNode(change));
    }
    flush();
  }
}

function changeNode(change: Exclude<ICellChange, { kind: 'same' }>): HTMLElement {
  if (change.kind !== 'changed') {
    const node = cellNode(change.cell);
    node.classList.add(change.kind === 'added' ? 'jp-mod-added' : 'jp-mod-removed');
    node.querySelector('.jp-collab-history-cell-head')?.appendChild(
      el('span', 'jp-collab-history-tag', change.kind)
    );
    return node;
  }
  const node = cellNode(change.after, false);
  node.classList.add('jp-mod-changed');
  const head = node.querySelector('.jp-collab-history-cell-head')!;
  const tags: string[] = ['changed'];
  if (change.before.cell_type !== change.after.cell_type) {
    tags.push(`${change.before.cell_type} → ${change.after.cell_type}`);
  }
  if (change.outputsChanged) {
    tags.push('outputs changed');
  }
  if (change.metadataChanged) {
    tags.push('metadata changed');
  }
  for (const tag of tags) {
    head.appendChild(el('span', 'jp-collab-history-tag', tag));
  }
  node.appendChild(
    change.lines.length > 0
      ? linesNode(change.lines)
      : el('pre', 'jp-collab-history-source', change.after.source)
  );
  if (change.outputsChanged) {
    node.appendChild(outputsNode(change.after.outputs));
  }
  return node;
}

/** A cell: a head with its execution count and type, its source, its outputs' text. */
function cellNode(cell: ICell, withSource = true): HTMLElement {
  const node = el('div', 'jp-collab-history-cell');
  node.dataset.type = cell.cell_type;
  const count = cell.cell_type === 'code' ? `[${cell.execution_count ?? ' '}] ` : '';
  node.appendChild(el('div', 'jp-collab-history-cell-head', `${count}${cell.cell_type}`));
  if (withSource) {
    node.appendChild(el('pre', 'jp-collab-history-source', cell.source));
    if (cell.outputs.length > 0) {
      node.appendChild(outputsNode(cell.outputs));
    }
  }
  return node;
}

function outputsNode(outputs: readonly string[]): HTMLElement {
  const node = el('div', 'jp-collab-history-outputs');
  for (const text of outputs) {
    node.appendChild(el('pre', 'jp-collab-history-output', text));
  }
  return node;
}

function unchangedNode(cells: readonly ICell[]): HTMLElement {
  const node = el('details', 'jp-collab-history-unchanged');
  node.appendChild(
    el('summary', '', `${cells.length} unchanged cell${cells.length === 1 ? '' : 's'}`)
  );
  cells.forEach(cell => node.appendChild(cellNode(cell)));
  return node;
}

const MARKS: Record<IDiffLine['kind'], string> = {
  same: ' ',
  added: '+',
  removed: '−',
  hunk: '',
  header: ''
};

/** Lines of a diff, each marked and coloured by what it is. */
function linesNode(lines: readonly IDiffLine[]): HTMLElement {
  const node = el('pre', 'jp-collab-history-diff');
  for (const line of lines) {
    const row = el('div', 'jp-collab-history-line', `${MARKS[line.kind]}${line.text}`);
    row.dataset.kind = line.kind;
    node.appendChild(row);
  }
  return node;
}

function basename(path: string): string {
  return path.split('/').pop() || path;
}

/** An element with a class and text (set as text, never as HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}
