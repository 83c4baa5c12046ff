/**
 * Who ran which cell (docs/PROTOCOL.md, `run` and `runs`): the latest run of each cell of
 * one notebook, as the server tells everyone in it, and the words the notebook shows for
 * it ("run by Bob · 2 min ago", "Bob is running [3]"). Also the executor that tells the
 * server when this person's JupyterLab starts and ends a run. No DOM here.
 */
import type { INotebookCellExecutor } from '@jupyterlab/notebook';
import { ISignal, Signal } from '@lumino/signaling';

import { IRun, IRunRequest, ServerEvent } from '../connection';
import { labelOf } from '../cursors/model';

/**
 * The latest run of every cell of one notebook, kept from `run` and `runs` events.
 */
export class CellRuns {
  /** Emits after each change. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Take a server event; other events are ignored. */
  apply(event: ServerEvent): void {
    if (event.type === 'runs') {
      this._runs = new Map(event.runs.map(run => [run.cell, run]));
    } else if (event.type === 'run') {
      const { type: _, ...run } = event;
      this._runs.set(run.cell, run);
    } else {
      return;
    }
    this._changed.emit();
  }

  /** The latest run of a cell. */
  get(cell: string): IRun | undefined {
    return this._runs.get(cell);
  }

  /** The runs going on, oldest first. */
  running(): IRun[] {
    return [...this._runs.values()]
      .filter(run => run.status === 'running')
      .sort((a, b) => a.started - b.started);
  }

  private _runs = new Map<string, IRun>();
  private readonly _changed = new Signal<this, void>(this);
}

/**
 * How long ago, in words: `just now`, `5 s ago`, `2 min ago`, `3 h ago`, `4 days ago`.
 */
export function ago(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 5) {
    return 'just now';
  }
  if (s < 60) {
    return `${s} s ago`;
  }
  if (s < 3600) {
    return `${Math.floor(s / 60)} min ago`;
  }
  if (s < 86400) {
    return `${Math.floor(s / 3600)} h ago`;
  }
  const days = Math.floor(s / 86400);
  return `${days} day${days === 1 ? '' : 's'} ago`;
}

/**
 * The line a cell shows of its latest run, `now` in epoch seconds:
 * `run by Bob · 2 min ago`, `running… (Bob)`, `NameError · run by Bob · 1 min ago`,
 * `run by Bob · 1 min ago · ended unknown` (Bob left before it ended).
 */
export function runLine(run: IRun, now: number, me?: string): string {
  const who = run.by.username === me ? 'you' : labelOf(run.by);
  if (run.status === 'running') {
    return `running… (${who})`;
  }
  const when = ago(now - (run.finished ?? run.started));
  const line = `run by ${who} · ${when}`;
  if (run.status === 'error') {
    return `${run.ename ?? 'error'} · ${line}`;
  }
  return run.status === 'unknown' ? `${line} · ended unknown` : line;
}

/**
 * The notebook's busy indicator: `Bob is running [3]`, `Bob and Ann are running [3], [5]`,
 * or `null` when nothing runs. `numberOf` gives a cell's 1-based number.
 */
export function busyText(
  running: IRun[],
  numberOf: (cell: string) => number | null,
  me?: string
): string | null {
  if (running.length === 0) {
    return null;
  }
  const names = [...new Set(running.map(run => (run.by.username === me ? 'You' : labelOf(run.by))))];
  const who =
    names.length === 1
      ? names[0]
      : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  const verb = names.length === 1 && names[0] !== 'You' ? 'is' : 'are';
  const cells = running
    .map(run => numberOf(run.cell))
    .filter((n): n is number => n !== null)
    .map(n => `[${n}]`);
  return `${who} ${verb} running${cells.length ? ` ${cells.join(', ')}` : ''}`;
}

/**
 * The name of the error a cell's outputs end with (`NameError`), or `null`.
 */
export function errorName(outputs: ReadonlyArray<unknown>): string | null {
  for (let i = outputs.length - 1; i >= 0; i--) {
    const output = outputs[i] as { output_type?: unknown; ename?: unknown } | null;
    if (output && output.output_type === 'error') {
      return typeof output.ename === 'string' && output.ename ? output.ename.slice(0, 100) : null;
    }
  }
  return null;
}

/** What `reportingExecutor` needs to tell the room of a run. */
export interface IRunReporter {
  reportRun(request: Omit<IRunRequest, 'type'>): boolean;
}

/**
 * An executor that tells the notebook's room when a code cell starts and ends running
 * (with the error's name if it failed), around `base`. Runs that `base` refuses (a
 * reader) or that are not code cells are not reported.
 */
export function reportingExecutor(
  base: INotebookCellExecutor,
  reporterOf: (sharedModel: unknown) => IRunReporter | null
): INotebookCellExecutor {
  return Object.freeze({
    runCell: async (run: INotebookCellExecutor.IRunCellOptions): Promise<boolean> => {
      const model = run.cell.model;
      const reporter = model.type === 'code' ? reporterOf(run.notebook.sharedModel) : null;
      const cell = model.id;
      const started = reporter?.reportRun({ cell, phase: 'start' }) ?? false;
      let ok = false;
      try {
        ok = await base.runCell(run);
        return ok;
      } finally {
        if (reporter && started) {
          const outputs = (model as unknown as { outputs?: { toJSON(): unknown[] } }).outputs;
          const ename = ok ? null : errorName(outputs?.toJSON() ?? []);
          reporter.reportRun({ cell, phase: 'end', status: ok ? 'ok' : 'error', ename });
        }
      }
    }
  });
}
