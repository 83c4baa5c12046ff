import { ISavedEvent, PendingSaves, SaveError } from '../connection';

/** Pending saves over a fake socket: `open` says whether `send` goes out. */
function makeSaves(timeoutMs = 10_000) {
  const sent: string[] = [];
  const socket = { open: true };
  const saves = new PendingSaves({
    send: id => {
      if (socket.open) {
        sent.push(id);
      }
      return socket.open;
    },
    timeoutMs
  });
  return { saves, sent, socket };
}

/** Attach to a promise at once (no unhandled rejection), to look at its outcome later. */
function outcome<T>(promise: Promise<T>): Promise<T | Error> {
  return promise.catch((error: Error) => error);
}

function saved(id: string | null): ISavedEvent {
  return { type: 'saved', id, path: 'notes.txt', fingerprint: 'f1' };
}

describe('PendingSaves', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('resolves a save with the saved event carrying its id, and no other', async () => {
    const { saves, sent } = makeSaves();

    const saving = saves.add('a', true);
    saves.receive(saved(null));
    saves.receive(saved('someone-else'));
    expect(saves.size).toBe(1);
    saves.receive(saved('a'));

    expect(sent).toEqual(['a']);
    await expect(saving).resolves.toEqual(saved('a'));
    expect(saves.size).toBe(0);
  });

  it('rejects a save with the reason of the error event carrying its id', async () => {
    const { saves } = makeSaves();

    const saving = saves.add('a', true);
    saves.receive({ type: 'error', id: null, reason: 'unknown event type' });
    saves.receive({ type: 'error', id: 'a', reason: 'save failed: disk full' });

    await expect(saving).rejects.toThrow(new SaveError('save failed: disk full'));
  });

  it('gives an error event without a reason a sentence of its own', async () => {
    const { saves } = makeSaves();

    const saving = saves.add('a', true);
    saves.receive({ type: 'error', id: 'a', reason: '' });

    await expect(saving).rejects.toThrow(/could not save the document/);
  });

  it('holds a save back until sendUnsent, and sends it once', () => {
    const { saves, sent } = makeSaves();

    void outcome(saves.add('a', false));
    expect(sent).toEqual([]);
    saves.sendUnsent();
    saves.sendUnsent();

    expect(sent).toEqual(['a']);
    saves.rejectAll('done');
  });

  it('sends again a save whose socket was not open', () => {
    const { saves, sent, socket } = makeSaves();
    socket.open = false;

    void outcome(saves.add('a', true));
    socket.open = true;
    saves.sendUnsent();

    expect(sent).toEqual(['a']);
    saves.rejectAll('done');
  });

  it('rejects the saves already sent when their socket closes, and keeps the others', async () => {
    const { saves } = makeSaves();

    const sentSave = outcome(saves.add('a', true));
    const waiting = outcome(saves.add('b', false));
    saves.rejectSent('The connection was lost.');
    saves.receive(saved('b'));

    expect(await sentSave).toEqual(new SaveError('The connection was lost.'));
    expect(await waiting).toMatchObject({ id: 'b' });
  });

  it('rejects every save when the connection closes', async () => {
    const { saves } = makeSaves();

    const first = outcome(saves.add('a', true));
    const second = outcome(saves.add('b', false));
    saves.rejectAll('Cannot save: closed.');

    expect(await first).toEqual(new SaveError('Cannot save: closed.'));
    expect(await second).toEqual(new SaveError('Cannot save: closed.'));
    expect(saves.size).toBe(0);
  });

  it('rejects a save that gets no answer in time, and ignores a late answer', async () => {
    jest.useFakeTimers();
    const { saves } = makeSaves(500);

    const saving = saves.add('a', true);
    jest.advanceTimersByTime(499);
    expect(saves.size).toBe(1);
    jest.advanceTimersByTime(1);
    saves.receive(saved('a'));

    await expect(saving).rejects.toThrow(/within 500 ms/);
  });
});
