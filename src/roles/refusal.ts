/**
 * What people read when the server refused a change of theirs: one short sentence that
 * fits a notification, naming a cell by its number as people see it, never by its id.
 */

/** Notifications show about this many characters; longer messages are cut. */
export const MAX_NOTICE_LENGTH = 120;

/** How the server words a lock refusal (jupyter_collab/locks.py). */
const LOCKED = /^cell (\S+) is locked: ([^;]+)/;

/** How the server words a change to outputs by someone who may not run code (locks.py). */
const OUTPUTS = /^cell (\S+): only people who may run code change its outputs/;

/** How the server words a reader's refused edit (jupyter_collab/rooms.py). */
const READER = /^(viewer|commenter)s cannot edit/;

/**
 * The notice for a refused change to `name` (the document's file name).
 *
 * Args:
 *   name: the document's file name.
 *   reason: the server's reason (the permission-denied message).
 *   cellNumber: the number of a cell by its id, if known (it may be gone locally).
 */
export function refusalNotice(
  name: string,
  reason: string,
  cellNumber: (cellId: string) => number | null = () => null
): string {
  const locked = LOCKED.exec(reason);
  if (locked) {
    const number = cellNumber(locked[1]);
    const cell = number === null ? 'A cell' : `Cell ${number}`;
    return fit(`${cell} is locked by an owner: ${locked[2].trim()}. Reloading ${name}.`);
  }
  const outputs = OUTPUTS.exec(reason);
  if (outputs) {
    const number = cellNumber(outputs[1]);
    const cell = number === null ? 'a cell' : `cell ${number}`;
    return fit(`Only people who may run code change the outputs of ${cell}. Reloading ${name}.`);
  }
  const reader = READER.exec(reason);
  if (reader) {
    return fit(`${capitalize(reader[1])}s cannot edit ${name}. Reloading it.`);
  }
  return fit(`Your change to ${name} was not applied: ${reason}`);
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** Cut at a word boundary with an ellipsis when longer than `MAX_NOTICE_LENGTH`. */
function fit(text: string): string {
  if (text.length <= MAX_NOTICE_LENGTH) {
    return text;
  }
  const cut = text.slice(0, MAX_NOTICE_LENGTH - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > MAX_NOTICE_LENGTH / 2 ? cut.slice(0, space) : cut}…`;
}
