/**
 * What a notebook shows to a person who may not run code in it: classes that hide
 * JupyterLab's Run, kernel and Save items (style/execution.css), a disabled Run button
 * whose tooltip says why, and a line in place of the kernel's name and status.
 */
import { runIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { IExecutionRights, maySave, runRefusal, runRefusedMessage } from './rights';

/** On a notebook panel where this person may not run code. */
export const NO_RUN_CLASS = 'jp-collab-no-run';
/** On a notebook panel this person may not save (readers). */
export const NO_SAVE_CLASS = 'jp-collab-no-save';
/** On the body while the current document (or the last one) may not run code here. */
export const CURRENT_NO_RUN_CLASS = 'jp-collab-current-no-run';
/** On JupyterLab's kernel status item and its Run and Kernel menus (hidden by CSS). */
export const KERNEL_UI_CLASS = 'jp-collab-kernel-ui';

/** The sentence in place of "No Kernel | Initializing". */
export const NO_KERNEL_TEXT = 'Code runs only for people allowed to run it';

/**
 * Set the classes of a notebook panel's node for `rights`.
 *
 * Returns:
 *   Why code may not run there, or `null`.
 */
export function applyRights(
  node: HTMLElement,
  rights: IExecutionRights | null | undefined
): string | null {
  const reason = runRefusal(rights);
  node.classList.toggle(NO_RUN_CLASS, reason !== null);
  node.classList.toggle(NO_SAVE_CLASS, !maySave(rights));
  return reason;
}

/**
 * A toolbar item that shows why something cannot be done: a disabled Run button, or
 * a line of text, with the reason as its tooltip.
 */
export class RefusalItem extends Widget {
  constructor(kind: 'run' | 'text') {
    super();
    this.addClass('jp-collab-refusal');
    this.addClass(`jp-collab-refusal-${kind}`);
    if (kind === 'run') {
      const button = document.createElement('button');
      button.className = 'jp-ToolbarButtonComponent jp-mod-minimal jp-Button';
      button.disabled = true;
      button.setAttribute('aria-label', 'Run (not allowed)');
      runIcon.element({ container: button, tag: 'span' });
      this.node.appendChild(button);
    } else {
      this.node.textContent = NO_KERNEL_TEXT;
    }
  }

  /** Why the action is refused; `null` when it is not (the item is then hidden). */
  set reason(reason: string | null) {
    const tip = reason === null ? '' : runRefusedMessage(reason);
    this.node.title = tip;
    this.node.querySelector('button')?.setAttribute('title', tip);
  }
}

/**
 * What the main area shows, instead of JupyterLab's Launcher, to a person who cannot
 * use it: kernels they may not start, and icons their session may no longer load.
 */
export class NothingToLaunch extends Widget {
  constructor() {
    super();
    this.id = 'jp-collab-nothing-to-launch';
    this.addClass('jp-collab-nothing-to-launch');
    this.title.label = 'Shared with you';
    this.title.closable = false;
    this._text = document.createElement('p');
    this.node.appendChild(this._text);
  }

  /** The sentence shown. */
  set text(text: string) {
    this._text.textContent = text;
  }

  private readonly _text: HTMLParagraphElement;
}

/** The sentence of `NothingToLaunch`: after an access ended, or for a reader. */
export function nothingToLaunchText(endedPath: string | null): string {
  return endedPath === null
    ? 'Nothing is open. Documents shared with you open from their link or the file browser; code runs only for people allowed to run it.'
    : `Your access to ${endedPath} ended. Documents still shared with you open from their link or the file browser.`;
}
