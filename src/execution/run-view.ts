/**
 * "Run by Bob · 2 min ago" under each code cell's input, and the toolbar's "Bob is
 * running [3]", kept current from a notebook's `CellRuns`.
 */
import { Widget } from '@lumino/widgets';

import { busyText, CellRuns, runLine } from './runs';

/** What the run lines need of a notebook (`Notebook` has it). */
export interface IRunNotebook {
  readonly widgets: ReadonlyArray<{
    readonly model: { readonly id: string; readonly type: string };
    readonly node: HTMLElement;
  }>;
}

/** The class of a cell's run line. */
export const RUN_LINE_CLASS = 'jp-collab-run';

/**
 * Writes each code cell's run line (and nothing in cells never run). Call `render` when
 * cells change; it also refreshes itself every 30 s so "2 min ago" stays true.
 */
export class RunLines {
  constructor(
    private readonly _notebook: IRunNotebook,
    private readonly _runs: CellRuns,
    private readonly _me: () => string | undefined
  ) {
    _runs.changed.connect(this.render, this);
    this._timer = setInterval(() => this.render(), 30000);
  }

  render(): void {
    const now = Date.now() / 1000;
    for (const cell of this._notebook.widgets) {
      const run = cell.model.type === 'code' ? this._runs.get(cell.model.id) : undefined;
      let line = cell.node.querySelector<HTMLElement>(`:scope > .${RUN_LINE_CLASS}`);
      if (!run) {
        line?.remove();
        continue;
      }
      if (!line) {
        line = document.createElement('div');
        line.className = RUN_LINE_CLASS;
        // under the input, above the outputs
        const outputs = cell.node.querySelector(':scope > .jp-Cell-outputWrapper');
        cell.node.insertBefore(line, outputs);
      }
      line.dataset.collabRunStatus = run.status;
      line.dataset.collabRunBy = run.by.username;
      line.textContent = runLine(run, now, this._me());
      line.title = `Started ${new Date(run.started * 1000).toLocaleString()}`;
    }
  }

  dispose(): void {
    clearInterval(this._timer);
    this._runs.changed.disconnect(this.render, this);
  }

  private readonly _timer: ReturnType<typeof setInterval>;
}

/**
 * The notebook toolbar's busy indicator: who is running which cells, hidden when none.
 */
export class BusyItem extends Widget {
  constructor(
    private readonly _runs: CellRuns,
    private readonly _numberOf: (cell: string) => number | null,
    private readonly _me: () => string | undefined
  ) {
    super();
    this.addClass('jp-collab-busy');
    _runs.changed.connect(this.render, this);
    this.render();
  }

  render(): void {
    const text = busyText(this._runs.running(), this._numberOf, this._me());
    this.node.textContent = text ?? '';
    this.node.title = text ? 'Running now, in this notebook’s kernel' : '';
    this.node.dataset.collabBusy = String(text !== null);
  }

  dispose(): void {
    this._runs.changed.disconnect(this.render, this);
    super.dispose();
  }
}
