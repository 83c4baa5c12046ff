/**
 * Who ran which cell: the run events, the words on a cell and in the toolbar, and the
 * executor that reports a run's start and end.
 */
import type { INotebookCellExecutor } from '@jupyterlab/notebook';

import { IRun, parseEvent } from '../connection';
import {
  ago,
  busyText,
  CellRuns,
  errorName,
  IRunReporter,
  reportingExecutor,
  runLine
} from '../execution';

const BOB = { username: 'bob', display_name: 'Bob Builder' };
const ANN = { username: 'ann', name: 'Ann' };

function run(cell: string, fields: Partial<IRun> = {}): IRun {
  return {
    cell,
    by: BOB,
    started: 1000,
    finished: 1010,
    status: 'ok',
    ename: null,
    ...fields
  };
}

describe('run events', () => {
  it('reads run and runs events, and refuses malformed ones', () => {
    const event = parseEvent(
      JSON.stringify({ type: 'run', ...run('c1', { status: 'error', ename: 'NameError' }) })
    );
    expect(event).toEqual({ type: 'run', ...run('c1', { status: 'error', ename: 'NameError' }) });
    const runs = parseEvent(JSON.stringify({ type: 'runs', runs: [run('c1'), run('c2')] }));
    expect(runs?.type === 'runs' && runs.runs.map(r => r.cell)).toEqual(['c1', 'c2']);
    for (const bad of [
      { type: 'run', ...run('c1'), status: 'exploded' },
      { type: 'run', ...run('c1'), by: { username: '' } },
      { type: 'run', ...run('c1'), started: -1 },
      { type: 'runs', runs: [run('c1'), { cell: 3 }] }
    ]) {
      expect(() => parseEvent(JSON.stringify(bad))).toThrow(TypeError);
    }
  });

  it('keeps the latest run of each cell, and which are running', () => {
    const runs = new CellRuns();
    let changes = 0;
    runs.changed.connect(() => changes++);
    runs.apply({ type: 'runs', runs: [run('c1'), run('c2', { status: 'running', finished: null })] });
    runs.apply({ type: 'run', ...run('c3', { by: ANN, status: 'running', finished: null, started: 999 }) });
    runs.apply({ type: 'saved', id: null, path: 'a', fingerprint: 'x' });
    expect(changes).toBe(2);
    expect(runs.running().map(r => r.cell)).toEqual(['c3', 'c2']);
    runs.apply({ type: 'run', ...run('c2', { status: 'error', ename: 'ValueError' }) });
    expect(runs.get('c2')?.ename).toBe('ValueError');
    expect(runs.running().map(r => r.cell)).toEqual(['c3']);
  });
});

describe('the words', () => {
  it('says how long ago', () => {
    expect([0, 30, 150, 7300, 90000, 200000].map(ago)).toEqual([
      'just now',
      '30 s ago',
      '2 min ago',
      '2 h ago',
      '1 day ago',
      '2 days ago'
    ]);
  });

  it('says who ran a cell and how it ended', () => {
    expect(runLine(run('c1'), 1130)).toBe('run by Bob Builder · 2 min ago');
    expect(runLine(run('c1'), 1130, 'bob')).toBe('run by you · 2 min ago');
    expect(runLine(run('c1', { status: 'running', finished: null }), 1130)).toBe(
      'running… (Bob Builder)'
    );
    expect(runLine(run('c1', { status: 'error', ename: 'NameError' }), 1010)).toBe(
      'NameError · run by Bob Builder · just now'
    );
    expect(runLine(run('c1', { status: 'unknown' }), 1010)).toBe(
      'run by Bob Builder · just now · ended unknown'
    );
  });

  it('says who is running which cells', () => {
    const numbers: Record<string, number> = { c1: 1, c3: 3 };
    const numberOf = (cell: string): number | null => numbers[cell] ?? null;
    expect(busyText([], numberOf)).toBeNull();
    expect(busyText([run('c3', { status: 'running' })], numberOf)).toBe(
      'Bob Builder is running [3]'
    );
    expect(
      busyText([run('c1', { status: 'running' }), run('c3', { by: ANN, status: 'running' })], numberOf)
    ).toBe('Bob Builder and Ann are running [1], [3]');
    expect(busyText([run('c1', { status: 'running' })], numberOf, 'bob')).toBe(
      'You are running [1]'
    );
  });

  it('finds the error a cell ended with', () => {
    expect(errorName([{ output_type: 'stream' }, { output_type: 'error', ename: 'KeyError' }])).toBe(
      'KeyError'
    );
    expect(errorName([{ output_type: 'execute_result' }])).toBeNull();
  });
});

describe('reportingExecutor', () => {
  function options(type: string, outputs: unknown[] = []): INotebookCellExecutor.IRunCellOptions {
    return {
      cell: { model: { type, id: 'c9', outputs: { toJSON: () => outputs } } },
      notebook: { sharedModel: 'nb' }
    } as unknown as INotebookCellExecutor.IRunCellOptions;
  }

  it('tells the room a code cell started and how it ended', async () => {
    const sent: unknown[] = [];
    const reporter: IRunReporter = { reportRun: request => sent.push(request) > 0 };
    const failing = reportingExecutor({ runCell: async () => false }, () => reporter);
    await failing.runCell(options('code', [{ output_type: 'error', ename: 'ZeroDivisionError' }]));
    const working = reportingExecutor({ runCell: async () => true }, () => reporter);
    await working.runCell(options('code'));
    expect(sent).toEqual([
      { cell: 'c9', phase: 'start' },
      { cell: 'c9', phase: 'end', status: 'error', ename: 'ZeroDivisionError' },
      { cell: 'c9', phase: 'start' },
      { cell: 'c9', phase: 'end', status: 'ok', ename: null }
    ]);
  });

  it('reports nothing for markdown cells or documents not served live', async () => {
    const sent: unknown[] = [];
    const reporter: IRunReporter = { reportRun: request => sent.push(request) > 0 };
    await reportingExecutor({ runCell: async () => true }, () => reporter).runCell(
      options('markdown')
    );
    await reportingExecutor({ runCell: async () => true }, () => null).runCell(options('code'));
    expect(sent).toEqual([]);
  });
});
