/**
 * The owners' activity numbers and what the class dashboard makes of them: parsing,
 * who is stuck, sorting and filtering, sparklines, joining presence, follow words,
 * the document's own numbers and join/leave notices.
 */
import { parseEvent } from '../connection';
import { joinLeaveNotices } from '../plugins/teaching';
import { parsePresenceMessage, PresenceModel } from '../presence/model';
import {
  activityText,
  boardRows,
  followText,
  IPersonActivity,
  markConcurrentCells,
  mergePresence,
  parseActivity,
  personSummary,
  placeOf,
  sparkPoints,
  stuckReason
} from '../teaching';

const NOW = 10000;

function row(username: string, fields: Partial<IPersonActivity> = {}): IPersonActivity {
  return {
    username,
    label: username[0].toUpperCase() + username.slice(1),
    color: '#1f77b4',
    path: 'class1/lesson.ipynb',
    type: 'notebook',
    cell: 'c1',
    cellIndex: 0,
    state: 'active',
    editsPerMin: 10,
    typingCpm: 50,
    spark: [0, 1, 2],
    cellsEdited: 1,
    runsOk: 1,
    runsError: 0,
    lastError: null,
    lastActive: NOW,
    ...fields
  };
}

describe('parseActivity', () => {
  it('reads the owners message, leaving out rows that do not parse', () => {
    const message = parseActivity({
      type: 'activity',
      now: NOW,
      people: [
        {
          username: 'bob',
          user: { display_name: 'Bob Builder', color: '#ff7f0e' },
          path: 'a.ipynb',
          type: 'notebook',
          cell: 'c2',
          cell_index: 1,
          state: 'idle',
          edits_per_min: 5,
          typing_cpm: 40,
          spark: [1, 2, 'x'],
          cells_edited: 2,
          runs: { ok: 3, error: 1 },
          last_error: { name: 'NameError', cell: 'c2', at: 9990 },
          last_active: 9900
        },
        { username: 'eve', path: 'a.ipynb', state: 'asleep' },
        'junk'
      ],
      documents: [{ path: 'a.ipynb', people_active: 2, edits_per_min: 7, spark: [], concurrent: { count: 1, per_min: 0.1 } }]
    });
    expect(message.people).toHaveLength(1);
    const bob = message.people[0];
    expect([bob.label, bob.cellIndex, bob.state, bob.runsError, bob.lastError?.name]).toEqual([
      'Bob Builder',
      1,
      'idle',
      1,
      'NameError'
    ]);
    expect(bob.spark).toEqual([1, 2, 0]);
    expect(message.documents[0].concurrent).toBe(1);
    expect(() => parseActivity({ type: 'update' })).toThrow(TypeError);
  });

  it('reaches the presence model through the feed, with the owner flag', () => {
    const model = new PresenceModel();
    model.apply(parsePresenceMessage({ type: 'snapshot', people: [], owner: true }));
    expect(model.owner).toBe(true);
    let changed = 0;
    model.activityChanged.connect(() => changed++);
    model.apply(parsePresenceMessage({ type: 'activity', now: NOW, people: [], documents: [] }));
    expect(changed).toBe(1);
    expect(model.activity?.now).toBe(NOW);
    model.clear();
    expect(model.activity).toBeNull();
    expect(model.lastChange).toBe('clear');
  });

  it('keeps every row: later messages change some, drop the gone, a full one replaces all', () => {
    const model = new PresenceModel();
    const person = (username: string, path: string, edits: number) => ({
      username,
      path,
      state: 'active',
      edits_per_min: edits
    });
    const doc = (path: string, edits: number) => ({ path, edits_per_min: edits });
    const send = (message: Record<string, unknown>) =>
      model.apply(parsePresenceMessage({ type: 'activity', now: NOW, ...message }));
    const rows = () =>
      model.activity?.people.map(p => `${p.username}@${p.path}:${p.editsPerMin}`).sort();

    send({
      full: true,
      people: [person('bob', 'a.ipynb', 1), person('bob', 'b.ipynb', 2), person('ann', 'a.ipynb', 3)],
      documents: [doc('a.ipynb', 4), doc('b.ipynb', 2)]
    });
    send({
      people: [person('ann', 'a.ipynb', 9)],
      documents: [],
      gone: { people: [['bob', 'b.ipynb'], 'junk'], documents: ['b.ipynb'] }
    });
    expect(rows()).toEqual(['ann@a.ipynb:9', 'bob@a.ipynb:1']);
    expect(model.activity?.documents.map(d => d.path)).toEqual(['a.ipynb']);

    send({ full: true, people: [person('cat', 'c.ipynb', 5)], documents: [] });
    expect(rows()).toEqual(['cat@c.ipynb:5']);
    expect(model.activity?.documents).toEqual([]);
  });
});

describe('stuck', () => {
  it('is an error in the latest run, or idling while others in the folder work', () => {
    const erring = row('bob', { lastError: { name: 'NameError', cell: 'c1', at: NOW } });
    const idle = row('ann', { state: 'idle', lastActive: NOW - 180 });
    const working = row('cat');
    const elsewhere = row('dan', { state: 'idle', path: 'class2/x.ipynb' });
    const all = [erring, idle, working, elsewhere];
    expect(stuckReason(erring, all, NOW)).toBe('error: NameError');
    expect(stuckReason(idle, all, NOW)).toBe('idle 3 min while others work');
    expect(stuckReason(working, all, NOW)).toBeNull();
    expect(stuckReason(elsewhere, all, NOW)).toBeNull(); // nobody works in class2/
  });

  it('filters, and sorts the stuck first by default', () => {
    const all = [
      row('ann', { editsPerMin: 3 }),
      row('bob', { lastError: { name: 'E', cell: 'c1', at: NOW } }),
      row('cat', { path: 'class2/x.ipynb', editsPerMin: 30 })
    ];
    const view = { folder: '', stuckOnly: false, sort: 'error' as const, descending: false };
    expect(boardRows(all, view, NOW).map(r => r.activity.username)).toEqual(['bob', 'ann', 'cat']);
    expect(
      boardRows(all, { ...view, stuckOnly: true }, NOW).map(r => r.activity.username)
    ).toEqual(['bob']);
    expect(
      boardRows(all, { ...view, folder: 'class1/' }, NOW).map(r => r.activity.username)
    ).toEqual(['bob', 'ann']);
    expect(
      boardRows(all, { ...view, sort: 'edits', descending: true }, NOW).map(
        r => r.activity.username
      )
    ).toEqual(['cat', 'bob', 'ann']);
  });
});

describe('the dashboard rows and the panel line', () => {
  it('adds people the feed shows without numbers, and takes their cell from it', () => {
    const merged = mergePresence(
      [row('bob', { cell: 'c1' })],
      [
        { user: { username: 'bob' }, path: 'class1/lesson.ipynb', type: 'notebook', cell: 'c4', cell_index: 3, idle: false },
        { user: { username: 'ann', display_name: 'Ann Lee' }, path: 'b.py', type: 'file', cell: null, cell_index: null, idle: true }
      ],
      NOW
    );
    expect(merged.map(p => [p.username, p.cell, p.state, p.editsPerMin])).toEqual([
      ['bob', 'c4', 'active', 10],
      ['ann', null, 'idle', 0]
    ]);
  });

  it('sums a person over their documents', () => {
    const people = [row('bob', { spark: [1, 2] }), row('bob', { path: 'b.py', spark: [0, 5], typingCpm: 10 }), row('ann')];
    expect(personSummary(people, 'bob')).toEqual({ spark: [1, 7], typingCpm: 60, editsPerMin: 20 });
    expect(personSummary(people, 'zed')).toBeNull();
  });

  it('draws a sparkline inside its box', () => {
    expect(sparkPoints([0, 5, 10], 60, 14)).toBe('0,14 30,7.5 60,1');
    expect(sparkPoints([0, 0], 60, 14)).toBe('0,14 60,14');
    expect(sparkPoints([], 60, 14)).toBe('');
  });
});

describe('follow and present', () => {
  it('reads where a person is from their awareness', () => {
    expect(placeOf({ cell: 'c2', scroll: { cell: 'c1' } })).toEqual({ cell: 'c2', scroll: 'c1' });
    expect(placeOf({ cell: 3 })).toEqual({ cell: null, scroll: null });
    expect(placeOf(null)).toEqual({ cell: null, scroll: null });
  });

  it('says whom one follows', () => {
    const target = { username: 'ann', label: 'Ann', clientId: null, path: null, held: false, presenter: false };
    expect(followText(target)).toBe('Following Ann');
    expect(followText({ ...target, presenter: true })).toBe('Ann is presenting');
    expect(followText({ ...target, presenter: true, held: true })).toBe(
      'Ann is presenting (you follow along)'
    );
  });

  it('reads presenting events', () => {
    expect(
      parseEvent(JSON.stringify({ type: 'presenting', by: { username: 'ann' }, client_id: 7, hold: true }))
    ).toEqual({ type: 'presenting', by: { username: 'ann' }, client_id: 7, hold: true });
    expect(parseEvent(JSON.stringify({ type: 'presenting', by: null }))).toEqual({
      type: 'presenting',
      by: null,
      client_id: null,
      hold: false
    });
    expect(() => parseEvent(JSON.stringify({ type: 'presenting', by: 'ann' }))).toThrow(TypeError);
  });
});

describe("a document's own numbers", () => {
  const event = {
    type: 'activity' as const,
    people_active: 2,
    edits_per_min: 40,
    concurrent: { count: 1, per_min: 0.1, cells: { c2: { count: 1, last: NOW - 60 } } }
  };

  it('reads and words them', () => {
    expect(parseEvent(JSON.stringify(event))).toEqual(event);
    expect(activityText(event)).toBe('2 active · 40 edits/min · 1 concurrent edit');
    expect(activityText({ ...event, concurrent: { count: 0, per_min: 0, cells: {} } })).toBe(
      '2 active · 40 edits/min'
    );
    expect(() => parseEvent(JSON.stringify({ ...event, edits_per_min: -1 }))).toThrow(TypeError);
  });

  it('marks the cells where two people changed it at once, and only those', () => {
    const cells = ['c1', 'c2'].map(id => ({ model: { id }, node: document.createElement('div') }));
    markConcurrentCells({ widgets: cells }, event, NOW);
    expect(cells.map(c => c.node.classList.contains('jp-collab-concurrent'))).toEqual([false, true]);
    const badge = cells[1].node.querySelector('.jp-collab-concurrent-badge') as HTMLElement;
    expect(badge.title).toBe(
      'Two people changed this cell at once 1 time in the last 10 minutes (the last 1 min ago)'
    );
    markConcurrentCells({ widgets: cells }, null, NOW);
    expect(cells[1].node.querySelector('.jp-collab-concurrent-badge')).toBeNull();
  });
});

describe('join and leave notices', () => {
  it('announces who joined and who left which document', () => {
    const before = new Map([['ann\u0000class1/a.ipynb', 'Ann']]);
    const after = new Map([['bob\u0000class1/b.ipynb', 'Bob']]);
    expect(joinLeaveNotices(before, after)).toEqual(['Bob joined b.ipynb', 'Ann left a.ipynb']);
    expect(joinLeaveNotices(after, after)).toEqual([]);
  });
});
