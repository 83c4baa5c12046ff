/**
 * Who may run code in a live document, and the sentence that says why not.
 *
 * The server decides (`can_execute` in the session answer: owners always, editors only
 * when the owner allowed it, readers never); a role changed live (`role` events) can
 * only take the right away here, never grant it: a promoted person reopens the document.
 */
import { canEdit } from '../connection';

/** What a live document knows of this person's rights (`ILiveDocument` has it). */
export interface IExecutionRights {
  /** The role on the document; `null` until the session call answered. */
  readonly role: string | null;
  /** The session answer's `can_execute`. */
  readonly canExecute: boolean;
}

/**
 * Why this person may not run code in the document, or `null` when they may (or when
 * it is not known yet: the server still refuses kernels to people without the right).
 */
export function runRefusal(rights: IExecutionRights | null | undefined): string | null {
  if (!rights || rights.role === null) {
    return null;
  }
  if (!canEdit(rights.role)) {
    return `you are a ${rights.role} of this document: it is read-only for you`;
  }
  if (!rights.canExecute) {
    return rights.role === 'editor'
      ? 'the owner has not allowed editors to run code'
      : 'this server does not let you run code';
  }
  return null;
}

/** The tooltip of the disabled Run button, and the words of a refused run. */
export function runRefusedMessage(reason: string): string {
  return `You can't run code here: ${reason}.`;
}

/** Whether this person may save the document (readers may not; the server saves). */
export function maySave(rights: IExecutionRights | null | undefined): boolean {
  return !rights || rights.role === null || canEdit(rights.role);
}
