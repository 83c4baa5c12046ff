/**
 * The shared-model factory of the collab content provider: builds the `@jupyter/ydoc`
 * document a JupyterLab context edits, and asks an owner to connect it to its room.
 */
import { Contents, SharedDocumentFactory } from '@jupyterlab/services';
import { DocumentChange, YDocument } from '@jupyter/ydoc';

import { DocumentType } from '../api';

/**
 * The content types served live, mapped to the session's document type. Anything else
 * (directories, images opened by other viewers...) stays on REST.
 */
export function documentTypeOf(
  contentType: Contents.ContentType
): DocumentType | null {
  if (contentType === 'notebook') {
    return 'notebook';
  }
  if (contentType === 'file') {
    return 'file';
  }
  return null;
}

/**
 * Called with each shared model this factory creates, so that it gets a connection.
 */
export type ModelCreatedCallback = (
  model: YDocument<DocumentChange>,
  path: string,
  type: DocumentType
) => void;

/**
 * Creates collaborative shared models for notebooks and text files.
 */
export class CollabSharedModelFactory implements Contents.ISharedFactory {
  constructor(onCreated: ModelCreatedCallback) {
    this._onCreated = onCreated;
  }

  /** The models are live: JupyterLab must not load content into them. */
  readonly collaborative = true;

  /**
   * Register the document class for a content type (`'notebook'` or `'file'`).
   *
   * Raises:
   *   Error: a factory is already registered for the type.
   */
  registerDocumentFactory(
    type: Contents.ContentType,
    factory: SharedDocumentFactory
  ): void {
    if (this._factories.has(type)) {
      throw new Error(`A shared document factory for '${type}' is registered already.`);
    }
    this._factories.set(type, factory);
  }

  /**
   * Create a live shared model, or `undefined` so that JupyterLab falls back to a local
   * one: when the widget is not collaborative, has no text format, or the content type
   * is not served live.
   */
  createNew(
    options: Contents.ISharedFactoryOptions
  ): YDocument<DocumentChange> | undefined {
    const type = documentTypeOf(options.contentType);
    const factory = this._factories.get(options.contentType);
    if (
      !options.collaborative ||
      typeof options.format !== 'string' ||
      type === null ||
      factory === undefined
    ) {
      return undefined;
    }
    const model = factory(options);
    this._onCreated(model, options.path, type);
    return model;
  }

  private readonly _onCreated: ModelCreatedCallback;
  private readonly _factories = new Map<
    Contents.ContentType,
    SharedDocumentFactory
  >();
}
