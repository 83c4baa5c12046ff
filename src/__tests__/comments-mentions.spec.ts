/**
 * @mentions while typing a comment: the `@...` under the caret, the people offered for
 * it, what picking one writes, and how the picked person is read back from the text.
 */
import { handleOf, matchPeople, mentionAt, MentionCompleter, mentionsIn } from '../comments';

const alice = { username: 'alice', label: 'Alice Liddell' };
const albert = { username: 'albert', label: 'Albert Ross' };
const zoe = { username: 'guest:ab12:cd34', label: 'Zoe (guest)' };
const otherZoe = { username: 'guest:ab12:ef56', label: 'Zoe (guest)' };
const people = [alice, albert, zoe, otherZoe];

describe('mentionAt', () => {
  it('finds the @word that ends at the caret', () => {
    expect(mentionAt('hi @al', 6)).toEqual({ start: 3, query: 'al' });
    expect(mentionAt('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionAt('hi @al and more', 6)).toEqual({ start: 3, query: 'al' });
  });

  it('is not fooled by e-mail addresses or a finished mention', () => {
    expect(mentionAt('mail a@b', 8)).toBeNull();
    expect(mentionAt('hi @alice ', 10)).toBeNull();
  });
});

describe('matchPeople', () => {
  it('offers people by the start of their name or username, names first', () => {
    expect(matchPeople(people, 'al').map(p => p.username)).toEqual(['alice', 'albert']);
    expect(matchPeople(people, 'ROSS')).toEqual([albert]);
    expect(matchPeople(people, 'guest')).toEqual([zoe, otherZoe]);
    expect(matchPeople(people, 'bob')).toEqual([]);
  });

  it('offers each person once', () => {
    expect(matchPeople([alice, alice], '')).toEqual([alice]);
  });
});

describe('handleOf', () => {
  it('is the username, or for a guest the first word of their name', () => {
    expect(handleOf(alice)).toBe('alice');
    expect(handleOf(zoe)).toBe('Zoe');
  });
});

describe('MentionCompleter', () => {
  function setup() {
    const input = document.createElement('textarea');
    document.body.appendChild(input);
    const completer = new MentionCompleter(input, () => people);
    document.body.appendChild(completer.node);
    const type = (text: string) => {
      input.value = text;
      input.setSelectionRange(text.length, text.length);
      input.dispatchEvent(new Event('input'));
    };
    const key = (k: string) => {
      const event = new KeyboardEvent('keydown', { key: k, cancelable: true, bubbles: true });
      input.dispatchEvent(event);
      return event;
    };
    const offered = () =>
      Array.from(completer.node.querySelectorAll('li')).map(li => li.dataset.username);
    return { input, completer, type, key, offered };
  }

  afterEach(() => document.body.replaceChildren());

  it('lists the matching people while an @word is typed, and hides otherwise', () => {
    const { completer, type, offered } = setup();
    type('cc @al');
    expect(completer.node.hidden).toBe(false);
    expect(offered()).toEqual(['alice', 'albert']);
    type('cc @al, thanks');
    expect(completer.node.hidden).toBe(true);
  });

  it('picks with the arrows and Enter, writing the handle in place of the word', () => {
    const { input, type, key, completer } = setup();
    type('cc @al');
    key('ArrowDown');
    const enter = key('Enter');
    expect(enter.defaultPrevented).toBe(true); // no newline in the box
    expect(input.value).toBe('cc @albert ');
    expect(completer.node.hidden).toBe(true);
    // Enter with the list closed is the box's own again
    expect(key('Enter').defaultPrevented).toBe(false);
  });

  it('picks with a click; the guest picked is the one mentioned, not a namesake', () => {
    const { input, type, completer } = setup();
    type('thanks @zo');
    const second = completer.node.querySelectorAll('li')[1];
    second.dispatchEvent(new MouseEvent('mousedown', { bubbles: true, cancelable: true }));
    expect(input.value).toBe('thanks @Zoe ');
    expect(mentionsIn(input.value, [...completer.picked, ...people])).toEqual([
      otherZoe.username
    ]);
  });

  it('closes on Escape and leaves the text alone', () => {
    const { input, type, key, completer } = setup();
    type('@a');
    key('Escape');
    expect(completer.node.hidden).toBe(true);
    expect(input.value).toBe('@a');
  });
});
