/**
 * The comments model: threads as the room sends them, requests paired with their answers
 * by id, the server's refusals as errors, filters, unread markers kept across visits,
 * and the @mentions read from a message.
 */
import { Signal } from '@lumino/signaling';

import {
  CommentError,
  CommentsModel,
  ICommentsConnection,
  ISeenStore,
  mentionsIn
} from '../comments';
import {
  decodeEventMessage,
  ICommentRequest,
  ICommentThread,
  ServerEvent
} from '../connection';
import { thread } from './comments-helpers';
import { serverEvent } from './connection-helpers';

class FakeConnection implements ICommentsConnection {
  readonly eventReceived = new Signal<this, ServerEvent>(this);
  sent: ICommentRequest[] = [];
  open = true;

  requestComment(request: ICommentRequest): boolean {
    if (this.open) {
      this.sent.push(request);
    }
    return this.open;
  }

  receive(event: ServerEvent): void {
    this.eventReceived.emit(event);
  }
}

class MemoryStore implements ISeenStore {
  items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

function setup(username = 'alice', seen: ISeenStore | null = null) {
  const connection = new FakeConnection();
  const model = new CommentsModel({
    connection,
    username,
    key: 'nb.ipynb',
    timeoutMs: 1000,
    seen
  });
  return { connection, model };
}

describe('comment events', () => {
  it('reads a comments snapshot and a comment event as the server sends them', () => {
    const t = thread('t1');
    expect(decodeEventMessage(serverEvent({ type: 'comments', threads: [t] }))).toEqual({
      type: 'comments',
      threads: [t]
    });
    expect(decodeEventMessage(serverEvent({ type: 'comment', id: null, thread: t }))).toEqual(
      { type: 'comment', id: null, thread: t }
    );
  });

  it('reads a snapshot that leaves out what is null, false or empty', () => {
    const compact = {
      id: 't1',
      anchor: { kind: 'cell', cell_id: 'c1', quote: 'x = 1' },
      author: 'bob',
      created_at: 100,
      status: 'open',
      message_count: 1,
      participants: ['bob'],
      last_author: 'bob',
      last_at: 100,
      messages: [{ id: 't1-m1', author: 'bob', body: 'why?', created_at: 100 }]
    };
    const event = decodeEventMessage(serverEvent({ type: 'comments', threads: [compact] }));
    expect(event).toEqual({
      type: 'comments',
      threads: [
        thread('t1', {
          message_count: 1,
          participants: ['bob'],
          last_author: 'bob',
          last_at: 100
        })
      ]
    });
  });

  it('refuses a thread without what the panel reads', () => {
    const bad = { ...thread('t1'), messages: [{ id: 'm', body: 3 }] };
    expect(() => decodeEventMessage(serverEvent({ type: 'comment', thread: bad }))).toThrow(
      TypeError
    );
    const noAnchor = { ...thread('t1'), anchor: { kind: 'range' } };
    expect(() =>
      decodeEventMessage(serverEvent({ type: 'comments', threads: [noAnchor] }))
    ).toThrow(TypeError);
  });
});

describe('CommentsModel', () => {
  it('keeps the threads of the snapshot and of later events', () => {
    const { connection, model } = setup();
    let changes = 0;
    model.changed.connect(() => changes++);
    connection.receive({ type: 'comments', threads: [thread('t1'), thread('t2')] });
    connection.receive({
      type: 'comment',
      id: null,
      thread: thread('t2', { status: 'resolved' })
    });

    expect(model.loaded).toBe(true);
    expect(model.threads.map(t => [t.id, t.status])).toEqual([
      ['t1', 'open'],
      ['t2', 'resolved']
    ]);
    expect(model.openOnCell('c1').map(t => t.id)).toEqual(['t1']);
    expect(changes).toBe(2);
  });

  it('settles a request with the answer that carries its id', async () => {
    const { connection, model } = setup();
    connection.receive({ type: 'comments', threads: [] });
    const created = model.create({ kind: 'cell', cell_id: 'c1' }, 'hi @bob', {
      mentions: ['bob']
    });
    const request = connection.sent[0];
    expect(request).toMatchObject({
      type: 'comment.create',
      anchor: { kind: 'cell', cell_id: 'c1' },
      body: 'hi @bob',
      mentions: ['bob'],
      private: false
    });
    expect(request).not.toHaveProperty('author'); // the server knows who asks

    // someone else's event first: not the answer
    connection.receive({ type: 'comment', id: null, thread: thread('other') });
    connection.receive({ type: 'comment', id: request.id, thread: thread('mine') });

    await expect(created).resolves.toMatchObject({ id: 'mine' });
    expect(model.threads.map(t => t.id)).toEqual(['other', 'mine']);
  });

  it('fails a request with the reason of the server', async () => {
    const { connection, model } = setup();
    const reply = model.reply('t1', 'me too');
    connection.receive({
      type: 'error',
      id: connection.sent[0].id,
      reason: 'reply: viewers cannot write comments'
    });
    await expect(reply).rejects.toThrow('viewers cannot write comments');
    await expect(reply).rejects.toBeInstanceOf(CommentError);
  });

  it('fails at once when not connected, and when the document closes', async () => {
    const { connection, model } = setup();
    connection.open = false;
    await expect(model.resolve('t1')).rejects.toThrow('Not connected');
    connection.open = true;
    const pending = model.accept('t1');
    model.dispose();
    await expect(pending).rejects.toThrow('closed');
  });

  it('tells of threads changed by others, not of the snapshot or of answers', () => {
    const { connection, model } = setup();
    const told: string[] = [];
    model.threadChanged.connect((_, t) => told.push(t.id));
    connection.receive({ type: 'comments', threads: [thread('t1')] });
    void model.resolve('t1').catch(() => undefined);
    connection.receive({ type: 'comment', id: connection.sent[0].id, thread: thread('t1') });
    connection.receive({ type: 'comment', id: null, thread: thread('t2') });
    expect(told).toEqual(['t2']);
  });

  it('filters open, resolved, mine, mentions and detached threads', () => {
    const { connection, model } = setup('alice');
    const mention = thread('m');
    connection.receive({
      type: 'comments',
      threads: [
        thread('open'),
        thread('done', { status: 'resolved' }),
        thread('gone', { detached: true }),
        thread('mine', { author: 'alice' }),
        {
          ...mention,
          messages: [{ ...mention.messages[0], mentions: ['alice'] }]
        }
      ]
    });
    const ids = (filter: Parameters<CommentsModel['filtered']>[0]) =>
      model.filtered(filter).map(t => t.id);
    expect(ids('open')).toEqual(['open', 'mine', 'm']);
    expect(ids('resolved')).toEqual(['done']);
    expect(ids('detached')).toEqual(['gone']);
    expect(ids('mine')).toEqual(['mine']);
    expect(ids('mentions')).toEqual(['m']);
  });

  it('counts what others wrote after the last visit as unread, across visits', () => {
    const seen = new MemoryStore();
    seen.setItem(
      'jupyter-collab:comments-seen:nb.ipynb',
      JSON.stringify({ since: 150, threads: {} })
    );
    const { connection, model } = setup('alice', seen);
    connection.receive({
      type: 'comments',
      threads: [
        thread('old'), // written at 100, before the last visit
        thread('new', { created_at: 200, messages: [{ ...thread('x').messages[0], created_at: 200 }] }),
        thread('own', {
          messages: [{ ...thread('x').messages[0], author: 'alice', created_at: 300 }]
        })
      ]
    });
    expect(model.threads.filter(t => model.isUnread(t)).map(t => t.id)).toEqual(['new']);
    expect(model.unreadCount).toBe(1);

    model.markRead('new');
    expect(model.unreadCount).toBe(0);
    // the next visit remembers it
    const again = setup('alice', seen);
    again.connection.receive({ type: 'comments', threads: model.threads });
    expect(again.model.unreadCount).toBe(0);
  });

  it('treats everything as read on the very first visit', () => {
    const seen = new MemoryStore();
    const { connection, model } = setup('alice', seen);
    connection.receive({ type: 'comments', threads: [thread('t1')] });
    expect(model.unreadCount).toBe(0);
    expect(seen.items.size).toBe(1);
  });
});

describe('CommentsModel with the snapshot of first messages', () => {
  const brief = (over: Partial<ICommentThread> = {}): ICommentThread =>
    thread('t1', {
      message_count: 3,
      participants: ['bob', 'carol'],
      mentioned: ['alice'],
      last_author: 'carol',
      last_at: 300,
      ...over
    });

  it('counts, filters and marks unread from what the snapshot says of the rest', () => {
    const seen = new MemoryStore();
    seen.setItem(
      'jupyter-collab:comments-seen:nb.ipynb',
      JSON.stringify({ since: 200, threads: {} })
    );
    const { connection, model } = setup('alice', seen);
    connection.receive({ type: 'comments', threads: [brief()] });
    const [t] = model.threads;
    expect(model.isComplete(t)).toBe(false);
    expect(model.filtered('mentions').map(x => x.id)).toEqual(['t1']);
    expect(model.isUnread(t)).toBe(true); // carol wrote at 300, after the visit at 200
    model.markRead('t1');
    expect(model.isUnread(model.threads[0])).toBe(false);
  });

  it('brings a whole thread on request', async () => {
    const { connection, model } = setup('carol');
    connection.receive({ type: 'comments', threads: [brief()] });
    expect(model.filtered('mine').map(x => x.id)).toEqual(['t1']); // carol wrote in it
    const loading = model.load('t1');
    expect(connection.sent[0]).toMatchObject({ type: 'comment.get', thread: 't1' });
    const whole = { ...brief(), messages: [...brief().messages, ...brief().messages] };
    connection.receive({ type: 'comment', id: connection.sent[0].id, thread: whole });
    await expect(loading).resolves.toEqual(whole);
    expect(model.isComplete(model.threads[0])).toBe(false); // 2 of 3 here
  });

  it('refuses a snapshot whose lists are not lists of names', () => {
    const bad = { ...brief(), participants: 'bob' };
    expect(() => decodeEventMessage(serverEvent({ type: 'comments', threads: [bad] }))).toThrow(
      TypeError
    );
  });
});

describe('mentionsIn', () => {
  const people = [
    { username: 'alice', label: 'Alice Liddell' },
    { username: 'guest:ab12:cd34', label: 'Zoe (guest)' }
  ];

  it('reads usernames and first names, once each, and leaves e-mail addresses alone', () => {
    expect(mentionsIn('@alice and @Zoe, again @zoe; mail a@b.c', people)).toEqual([
      'alice',
      'guest:ab12:cd34'
    ]);
  });

  it('keeps a word nobody is known by (the server refuses it with a reason)', () => {
    expect(mentionsIn('cc @nobody.', people)).toEqual(['nobody']);
  });
});
