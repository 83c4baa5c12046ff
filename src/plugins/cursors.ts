import { JupyterFrontEndPlugin } from '@jupyterlab/application';
import {
  EditorExtensionRegistry,
  IEditorExtensionRegistry
} from '@jupyterlab/codemirror';
import { Awareness } from 'y-protocols/awareness';
import { Text } from 'yjs';

import { localCursor, remoteCursors } from '../cursors';

/** What an editor's shared model offers when it is a Yjs text with awareness. */
interface IYTextModel {
  readonly ysource?: Text;
  readonly awareness?: Awareness | null;
}

/**
 * Shows other people's carets and selections in editors, and publishes ours.
 */
export const cursorsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:cursors',
  description: 'Shows collaborators’ cursors and selections in editors.',
  autoStart: true,
  requires: [IEditorExtensionRegistry],
  activate: (_app, registry: IEditorExtensionRegistry): void => {
    registry.addExtension({
      name: 'jupyter-collab:remote-cursors',
      factory: ({ model }) => {
        const { awareness, ysource } = model.sharedModel as IYTextModel;
        if (!awareness || !ysource) {
          return null;
        }
        return EditorExtensionRegistry.createImmutableExtension([
          remoteCursors({ awareness, ytext: ysource }),
          localCursor({ awareness, ytext: ysource })
        ]);
      }
    });
  }
};
