/**
 * The Comments panel: the threads of the current document, filtered (open, resolved,
 * mine, mentions me, detached), each with its quote, messages, replies and actions, and
 * a compose box for a new thread on a cell or a selection.
 *
 * Message bodies are Markdown, rendered through JupyterLab's rendermime with its
 * sanitizer (untrusted: no scripts, no event handlers, no `javascript:` links); every
 * other text goes in as text nodes. The server decides who may do what; the panel only
 * hides what this person's role cannot do, and shows the server's reason when it says no.
 */
import { Notification } from '@jupyterlab/apputils';
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { canEdit, CommentAnchor, ICommentMessage, ICommentThread, Role } from '../connection';
import { diffWords } from './diff';
import { IPerson, MentionCompleter, mentionsIn } from './mentions';
import { CommentFilter, CommentsModel } from './model';

/** A speech bubble, for the panel's tab and the cell toolbar. */
export const commentIcon = new LabIcon({
  name: 'jupyter-collab:comment',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">' +
    '<path class="jp-icon3" fill="#616161" d="M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm2 4v2h12V7H6zm0 4v2h8v-2H6z"/>' +
    '</svg>'
});

/** What the panel shows of the current document. */
export interface ICommentsContext {
  readonly model: CommentsModel;
  readonly path: string;
  /** This person's role there, now (it may change while the panel is open). */
  role(): Role | null;
  /** Show the thread's place in the document. */
  jump(thread: ICommentThread): void;
}

export interface ICommentsPanelOptions {
  readonly rendermime: IRenderMimeRegistry;
  /** The people known here (to show names and resolve @mentions). */
  readonly people?: () => readonly IPerson[];
  /**
   * The people the @mention completer offers: those holding a role on the current
   * document as far as this client knows; `people` when omitted.
   */
  readonly mentionable?: () => readonly IPerson[];
}

const FILTERS: [CommentFilter, string][] = [
  ['open', 'Open'],
  ['resolved', 'Resolved'],
  ['mine', 'Mine'],
  ['mentions', 'Mentions me'],
  ['detached', 'Detached']
];

/**
 * The side panel. `context` follows the current document (`null`: none of ours).
 */
export class CommentsPanel extends Widget {
  constructor(options: ICommentsPanelOptions) {
    super();
    this._rendermime = options.rendermime;
    this._people = options.people ?? (() => []);
    this._mentionable = options.mentionable ?? this._people;
    this.addClass('jp-collab-comments');
    this.title.icon = commentIcon;
    this.title.caption = 'Comments';
    this._header = el('div', 'jp-collab-comments-header');
    this._filters = el('div', 'jp-collab-comments-filters');
    this._compose = el('div', 'jp-collab-comments-compose');
    this._list = el('div', 'jp-collab-comments-list');
    this._empty = el('div', 'jp-collab-comments-empty');
    this.node.append(this._header, this._filters, this._compose, this._list, this._empty);
    for (const [filter, label] of FILTERS) {
      const button = el('button', 'jp-collab-comments-filter', label);
      button.dataset.filter = filter;
      button.onclick = () => {
        this._filter = filter;
        this.render();
      };
      this._filters.appendChild(button);
    }
  }

  get context(): ICommentsContext | null {
    return this._context;
  }

  set context(context: ICommentsContext | null) {
    if (context === this._context) {
      return;
    }
    this._context?.model.changed.disconnect(this._onChanged, this);
    this._context = context;
    this._context?.model.changed.connect(this._onChanged, this);
    this._nodes.clear();
    this._list.replaceChildren();
    this._composing = null;
    this.render();
  }

  /** Show one thread (e.g. from a cell badge): its filter, scrolled to, marked read. */
  showThread(threadId: string): void {
    const thread = this._context?.model.thread(threadId);
    if (!thread) {
      return;
    }
    this._filter = thread.detached ? 'detached' : thread.status === 'resolved' ? 'resolved' : 'open';
    this.render();
    const node = this._nodes.get(threadId)?.node;
    node?.scrollIntoView({ block: 'nearest' });
    node?.classList.add('jp-mod-selected');
    this._context?.model.markRead(threadId);
    if (!this._context?.model.isComplete(thread)) {
      void this._context?.model.load(threadId).catch(e => refused('Not loaded', e));
    }
  }

  /** Open the compose box for a new thread on `anchor` (what it covers in `quote`). */
  compose(anchor: CommentAnchor, quote: string, suggestion?: string): void {
    this._composing = { anchor, quote, suggestion };
    this.render();
    this._compose.querySelector('textarea')?.focus();
  }

  /** Draw the panel; threads whose content did not change keep their nodes (and drafts). */
  render(): void {
    const context = this._context;
    const role = context?.role() ?? null;
    const writer = role !== null && role !== 'viewer';
    this._header.textContent = context ? `Comments on ${context.path}` : 'Comments';
    this.node.dataset.role = role ?? '';
    const model = context?.model;
    for (const button of Array.from(this._filters.querySelectorAll<HTMLButtonElement>('button'))) {
      const filter = button.dataset.filter as CommentFilter;
      const count = model ? model.filtered(filter).length : 0;
      button.textContent = `${FILTERS.find(f => f[0] === filter)![1]} (${count})`;
      button.classList.toggle('jp-mod-active', filter === this._filter);
    }
    const unread = model?.unreadCount ?? 0;
    // a badge on the side bar's icon (style/comments.css): a label would be written
    // sideways next to it; the tab's tooltip says it in words
    const badge = unread > 0 ? String(unread) : '';
    if ((this.title.dataset.unread ?? '') !== badge) {
      // keep the keys JupyterLab put there (`id`: the side bar finds its tab by it)
      const { unread: _, ...others } = this.title.dataset;
      this.title.dataset = badge ? { ...others, unread: badge } : others;
    }
    this.title.caption = unread > 0 ? `Comments: ${unread} unread` : 'Comments';
    this._renderCompose(writer);
    const threads = model ? model.filtered(this._filter) : [];
    const keep = new Set(threads.map(t => t.id));
    for (const id of [...this._nodes.keys()]) {
      if (!keep.has(id)) {
        this._nodes.get(id)!.node.remove();
        this._nodes.delete(id);
      }
    }
    const nodes = threads.map(thread => {
      const known = this._nodes.get(thread.id);
      const key = `${role}|${model!.isUnread(thread)}`;
      if (known && known.thread === thread && known.key === key) {
        return known.node;
      }
      const node = this._threadNode(thread, role);
      known?.node.replaceWith(node);
      this._nodes.set(thread.id, { thread, key, node });
      return node;
    });
    nodes.forEach((node, i) => {
      if (this._list.children[i] !== node) {
        this._list.insertBefore(node, this._list.children[i] ?? null);
      }
    });
    this._empty.textContent = !context
      ? 'Open a notebook or a file to see its comments.'
      : threads.length === 0
        ? 'No comments here.'
        : '';
  }

  private _onChanged(): void {
    this.render();
  }

  private _renderCompose(writer: boolean): void {
    const composing = this._composing;
    if (!composing || !writer || !this._context) {
      this._compose.replaceChildren();
      return;
    }
    if (this._compose.dataset.key === JSON.stringify(composing.anchor)) {
      return;
    }
    this._compose.dataset.key = JSON.stringify(composing.anchor);
    const model = this._context.model;
    const quote = el('pre', 'jp-collab-comment-quote', clip(composing.quote));
    const body = el('textarea', 'jp-collab-comment-input') as HTMLTextAreaElement;
    body.placeholder = 'Comment (Markdown; @name to mention someone)';
    const completer = this._completer(body);
    const suggestion = el('textarea', 'jp-collab-comment-suggestion') as HTMLTextAreaElement;
    suggestion.placeholder = 'Suggest new text (optional)';
    if (composing.suggestion !== undefined) {
      suggestion.value = composing.suggestion;
    }
    const privacy = el('label', 'jp-collab-comment-private');
    const box = el('input') as HTMLInputElement;
    box.type = 'checkbox';
    privacy.append(box, ' Private (only you and the owners)');
    const send = el(
      'button',
      'jp-collab-comment-send jp-mod-styled jp-mod-accept',
      'Comment'
    ) as HTMLButtonElement;
    const cancel = el('button', 'jp-collab-comment-cancel jp-mod-styled', 'Cancel');
    cancel.onclick = () => {
      this._composing = null;
      delete this._compose.dataset.key;
      this.render();
    };
    send.onclick = async () => {
      const text = body.value.trim();
      if (!text) {
        body.focus();
        return;
      }
      const proposed = suggestion.value;
      send.disabled = true;
      try {
        await model.create(composing.anchor, text, {
          mentions: this._mentionsIn(text, completer),
          private: box.checked,
          ...(proposed && proposed !== composing.quote ? { suggestion: proposed } : {})
        });
        this._composing = null;
        delete this._compose.dataset.key;
        this.render();
      } catch (error) {
        refused('Your comment was not posted', error);
      } finally {
        send.disabled = false;
      }
    };
    this._compose.replaceChildren(
      el('div', 'jp-collab-comment-compose-title', 'New comment'),
      quote,
      body,
      completer.node,
      suggestion,
      privacy,
      el('div', 'jp-collab-comment-buttons', send, cancel)
    );
  }

  private _threadNode(thread: ICommentThread, role: Role | null): HTMLElement {
    const model = this._context!.model;
    const me = model.username;
    const writer = role !== null && role !== 'viewer';
    const node = el('div', 'jp-collab-thread');
    node.dataset.threadId = thread.id;
    node.dataset.status = thread.status;
    node.classList.toggle('jp-mod-unread', model.isUnread(thread));
    node.classList.toggle('jp-mod-detached', thread.detached);
    const head = el('div', 'jp-collab-thread-head');
    head.append(
      el('span', 'jp-collab-thread-status', thread.detached ? 'detached' : thread.status),
      thread.private ? el('span', 'jp-collab-thread-private', 'private') : '',
      model.isUnread(thread) ? el('span', 'jp-collab-thread-unread', 'new') : ''
    );
    const jump = el('button', 'jp-collab-thread-jump', 'Go to');
    jump.title = 'Show where this thread is in the document';
    jump.onclick = () => {
      model.markRead(thread.id);
      this._context?.jump(thread);
    };
    head.appendChild(jump);
    node.append(head);
    const quote = thread.anchor.quote ?? '';
    if (thread.suggestion !== null) {
      node.appendChild(suggestionNode(thread, quote));
    } else if (quote) {
      node.appendChild(el('pre', 'jp-collab-comment-quote', clip(quote)));
    }
    for (const message of thread.messages) {
      node.appendChild(this._messageNode(thread, message, role));
    }
    if (!model.isComplete(thread)) {
      const rest = (thread.message_count ?? 0) - thread.messages.length;
      const more = el(
        'button',
        'jp-collab-thread-more',
        `Show ${rest} more message${rest === 1 ? '' : 's'}`
      );
      more.onclick = () => void model.load(thread.id).catch(e => refused('Not loaded', e));
      node.appendChild(more);
    }
    const actions = el('div', 'jp-collab-thread-actions');
    if (thread.suggestion !== null && canEdit(role ?? '')) {
      const act = (label: string, run: () => Promise<unknown>): HTMLElement => {
        const button = el('button', `jp-collab-suggestion-${label.toLowerCase()}`, label);
        button.onclick = () => void run().catch(e => refused(`${label} failed`, e));
        return button;
      };
      if (thread.suggestion_state === 'open') {
        actions.append(
          act('Accept', () => model.accept(thread.id)),
          act('Reject', () => model.reject(thread.id))
        );
      } else if (thread.suggestion_state === 'accepted') {
        actions.append(act('Undo', () => model.undo(thread.id)));
      }
    }
    if (writer) {
      const toggle = el(
        'button',
        'jp-collab-thread-toggle',
        thread.status === 'open' ? 'Resolve' : 'Reopen'
      );
      toggle.onclick = () =>
        void (thread.status === 'open' ? model.resolve(thread.id) : model.reopen(thread.id)).catch(
          e => refused('The thread was not changed', e)
        );
      actions.appendChild(toggle);
      node.append(actions, this._replyNode(thread));
    } else {
      node.append(actions);
    }
    node.onclick = () => model.markRead(thread.id);
    void me;
    return node;
  }

  private _messageNode(
    thread: ICommentThread,
    message: ICommentMessage,
    role: Role | null
  ): HTMLElement {
    const model = this._context!.model;
    const node = el('div', 'jp-collab-message');
    node.dataset.messageId = message.id;
    const meta = el('div', 'jp-collab-message-meta');
    const author = el('span', 'jp-collab-message-author', this._nameOf(message.author));
    author.title = message.author;
    author.dataset.username = message.author;
    meta.append(
      author,
      el('span', 'jp-collab-message-time', when(message.created_at))
    );
    if (message.edited_at !== null && !message.deleted) {
      meta.append(el('span', 'jp-collab-message-edited', '(edited)'));
    }
    node.appendChild(meta);
    if (message.deleted) {
      node.appendChild(el('div', 'jp-collab-message-deleted', 'This message was deleted.'));
      return node;
    }
    const body = el('div', 'jp-collab-message-body');
    node.appendChild(body);
    void this._renderMarkdown(body, message.body);
    const mine = message.author === model.username;
    const writer = role !== null && role !== 'viewer';
    if (writer && (mine || role === 'owner')) {
      const tools = el('div', 'jp-collab-message-tools');
      if (mine) {
        const edit = el('button', 'jp-collab-message-edit', 'Edit');
        edit.onclick = () => {
          const input = el('textarea', 'jp-collab-comment-input') as HTMLTextAreaElement;
          input.value = message.body;
          const completer = this._completer(input);
          const save = el('button', 'jp-collab-message-save jp-mod-styled', 'Save');
          save.onclick = () =>
            void model
              .edit(thread.id, message.id, input.value, this._mentionsIn(input.value, completer))
              .catch(e => refused('The message was not changed', e));
          body.replaceChildren(input, completer.node, save);
          input.focus();
        };
        tools.appendChild(edit);
      }
      const remove = el('button', 'jp-collab-message-delete', 'Delete');
      remove.onclick = () =>
        void model.delete(thread.id, message.id).catch(e => refused('Not deleted', e));
      tools.appendChild(remove);
      node.appendChild(tools);
    }
    return node;
  }

  private _replyNode(thread: ICommentThread): HTMLElement {
    const model = this._context!.model;
    const form = el('div', 'jp-collab-reply');
    const input = el('textarea', 'jp-collab-reply-input') as HTMLTextAreaElement;
    input.placeholder = 'Reply…';
    input.value = this._drafts.get(thread.id) ?? '';
    input.oninput = () => this._drafts.set(thread.id, input.value);
    const completer = this._completer(input);
    const send = el('button', 'jp-collab-reply-send jp-mod-styled', 'Reply') as HTMLButtonElement;
    send.onclick = async () => {
      const text = input.value.trim();
      if (!text) {
        return;
      }
      send.disabled = true;
      // the reply's own event redraws the thread before the answer comes: without its
      // draft, the new reply box is empty
      const draft = input.value;
      this._drafts.delete(thread.id);
      try {
        await model.reply(thread.id, text, this._mentionsIn(text, completer));
      } catch (error) {
        this._drafts.set(thread.id, draft); // kept for another try
        refused('Your reply was not posted', error);
        send.disabled = false;
      }
    };
    form.append(input, completer.node, send);
    return form;
  }

  /** An @mention completer on a comment box, offering the people who may be mentioned. */
  private _completer(input: HTMLTextAreaElement): MentionCompleter {
    return new MentionCompleter(input, this._mentionable);
  }

  /** The usernames `text` mentions, the people picked in its box first. */
  private _mentionsIn(text: string, completer: MentionCompleter): string[] {
    return mentionsIn(text, [...completer.picked, ...this._mentionable(), ...this._people()]);
  }

  /** A username as people know them: their name when known; guests are "Guest". */
  private _nameOf(username: string): string {
    const person = this._people().find(p => p.username === username);
    if (person) {
      return person.label;
    }
    return username.startsWith('guest:') ? 'Guest' : username;
  }

  private async _renderMarkdown(host: HTMLElement, markdown: string): Promise<void> {
    const renderer = this._rendermime.createRenderer('text/markdown');
    // untrusted: the sanitizer takes out scripts, handlers and javascript: links
    await renderer.renderModel(
      new MimeModel({ data: { 'text/markdown': markdown }, trusted: false })
    );
    host.replaceChildren(renderer.node);
  }

  private _context: ICommentsContext | null = null;
  private _filter: CommentFilter = 'open';
  private _composing: { anchor: CommentAnchor; quote: string; suggestion?: string } | null =
    null;
  private readonly _rendermime: IRenderMimeRegistry;
  private readonly _people: () => readonly IPerson[];
  private readonly _mentionable: () => readonly IPerson[];
  private readonly _header: HTMLElement;
  private readonly _filters: HTMLElement;
  private readonly _compose: HTMLElement;
  private readonly _list: HTMLElement;
  private readonly _empty: HTMLElement;
  private readonly _nodes = new Map<
    string,
    { thread: ICommentThread; key: string; node: HTMLElement }
  >();
  private readonly _drafts = new Map<string, string>();
}

/**
 * The covered text and the proposed one as one inline diff (deleted words struck
 * through, inserted ones marked), with the decision. Text nodes only: nothing in either
 * text is read as HTML.
 */
function suggestionNode(thread: ICommentThread, quote: string): HTMLElement {
  const node = el('div', 'jp-collab-suggestion');
  node.dataset.state = thread.suggestion_state ?? '';
  const diff = el('pre', 'jp-collab-suggestion-diff');
  diff.title = 'Suggested text';
  for (const part of diffWords(quote, thread.suggestion ?? '')) {
    diff.append(part.kind === 'same' ? part.text : el(part.kind, '', part.text));
  }
  node.append(
    el('div', 'jp-collab-suggestion-title', `Suggested change (${thread.suggestion_state})`),
    diff
  );
  return node;
}

function refused(what: string, error: unknown): void {
  const reason = error instanceof Error ? error.message : String(error);
  Notification.error(`${what}: ${reason}`, { autoClose: 8000 });
}

function clip(text: string, max = 400): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function when(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString();
}

function el(
  tag: string,
  className?: string,
  ...children: (string | Node)[]
): HTMLElement {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  node.append(...children);
  return node;
}
