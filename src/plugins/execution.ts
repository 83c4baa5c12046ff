import {
  ILabShell,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { KernelStatus, Notification } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookCellExecutor, NotebookPanel, runCell } from '@jupyterlab/notebook';
import { MenuBar, Widget } from '@lumino/widgets';

import {
  applyRights,
  CURRENT_NO_RUN_CLASS,
  guardedExecutor,
  IClearableCell,
  keepOutputsWhile,
  KERNEL_UI_CLASS,
  NothingToLaunch,
  nothingToLaunchText,
  RefusalItem,
  reportingExecutor,
  runRefusal,
  runRefusedMessage
} from '../execution';
import { CollabContentProvider, ILiveDocument, sharedModelOf } from '../provider';
import { ICollabContentProvider } from '../tokens';

/** JupyterLab's menus that only make sense with a kernel. */
const KERNEL_MENUS = ['jp-mainmenu-run', 'jp-mainmenu-kernel'];

/**
 * Running code only where this person may: the notebook cell executor (it replaces
 * `@jupyterlab/notebook-extension:cell-executor`, disabled in package.json) leaves the
 * code cells of such notebooks untouched (no "Select Kernel" dialog, outputs kept),
 * Clear Outputs does nothing there, the Run button is disabled with the reason as its
 * tooltip, the kernel's toolbar items, status and menus are hidden, readers get no
 * Save button, and an empty main area shows a line instead of a Launcher they could
 * not use.
 */
export const executionPlugin: JupyterFrontEndPlugin<INotebookCellExecutor> = {
  id: 'jupyter-collab:execution',
  description: 'Runs notebook cells only where this person may run code.',
  autoStart: true,
  requires: [ICollabContentProvider],
  optional: [ILabShell],
  provides: INotebookCellExecutor,
  activate: (
    app: JupyterFrontEnd,
    provider: CollabContentProvider,
    labShell: ILabShell | null
  ): INotebookCellExecutor => {
    const tell = refusalNotifier();
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (panel: NotebookPanel, context: DocumentRegistry.IContext<any>) => {
        followRights(provider, panel, context, tell);
      }
    });
    if (labShell) {
      followCurrent(app, provider, labShell);
    }
    return guardedExecutor({
      // tells the room who runs what (docs/PROTOCOL.md, `run`), around JupyterLab's own
      base: reportingExecutor({ runCell }, shared => provider.connectionOf(shared)),
      refusal: sharedModel => runRefusal(provider.documentOf(sharedModel)),
      refused: reason => tell(reason)
    });
  }
};

/** Says why code did not run, at most once every few seconds. */
function refusalNotifier(): (reason: string) => void {
  let last = 0;
  return (reason: string): void => {
    const now = Date.now();
    if (now - last > 5000) {
      last = now;
      Notification.info(runRefusedMessage(reason), { autoClose: 5000 });
    }
  };
}

/**
 * Keep a notebook panel's classes, refusal items and output guards in step with this
 * person's rights on it.
 */
function followRights(
  provider: CollabContentProvider,
  panel: NotebookPanel,
  context: DocumentRegistry.IContext<any>,
  tell: (reason: string) => void
): void {
  const live = (): ILiveDocument | undefined =>
    provider.documentOf(context.model.sharedModel);
  const refusal = (): string | null => runRefusal(live());
  const run = new RefusalItem('run');
  const text = new RefusalItem('text');
  const toolbar = panel.toolbar;
  if (!toolbar.insertAfter('run', 'collabRunRefused', run)) {
    toolbar.addItem('collabRunRefused', run);
  }
  if (!toolbar.insertBefore('kernelName', 'collabNoKernel', text)) {
    toolbar.addItem('collabNoKernel', text);
  }
  const render = (): void => {
    const reason = applyRights(panel.node, live());
    run.reason = reason;
    text.reason = reason;
  };
  const onDocument = (_: unknown, changed: ILiveDocument): void => {
    if (changed === live()) {
      render();
    }
  };
  const guardCells = (): void => {
    for (const cell of context.model.cells) {
      if (cell.type === 'code') {
        keepOutputsWhile(cell as unknown as IClearableCell, refusal, tell);
      }
    }
  };
  render();
  provider.documentChanged.connect(onDocument);
  void context.ready.then(() => {
    if (!panel.isDisposed) {
      guardCells();
      context.model.cells.changed.connect(guardCells);
    }
  });
  panel.disposed.connect(() => provider.documentChanged.disconnect(onDocument));
}

/**
 * The parts outside the document: JupyterLab's kernel status and Run and Kernel menus
 * are hidden while the current document (or, when none is, the last one) may not run
 * code here; an empty main area shows `NothingToLaunch` instead of a Launcher to a
 * person whose access ended or who may not run code.
 */
function followCurrent(
  app: JupyterFrontEnd,
  provider: CollabContentProvider,
  labShell: ILabShell
): void {
  let lastRefusal: string | null = null;
  let ended: string | null = null;
  let placeholder: NothingToLaunch | null = null;

  const update = (): void => {
    const document = provider.documentOf(sharedModelOf(labShell.currentWidget));
    if (document?.role) {
      lastRefusal = runRefusal(document);
    }
    window.document.body.classList.toggle(
      CURRENT_NO_RUN_CLASS,
      ended !== null || lastRefusal !== null
    );
  };
  const fillEmptyMain = (): void => {
    const others = [...labShell.widgets('main')].filter(w => w !== placeholder);
    if (others.length > 0) {
      placeholder?.dispose();
      placeholder = null;
      return;
    }
    if (placeholder === null && (ended !== null || lastRefusal !== null)) {
      // added before the Launcher's own handler runs (it connects once the app is
      // restored, after us): the main area is no longer empty when it looks
      placeholder = new NothingToLaunch();
      placeholder.text = nothingToLaunchText(ended);
      labShell.add(placeholder, 'main');
    }
  };
  labShell.currentChanged.connect(update);
  provider.documentChanged.connect(update);
  labShell.layoutModified.connect(fillEmptyMain);
  provider.documentRefused.connect((_, document) => {
    if (/^access removed/.test(document.reason)) {
      ended = PathExt.basename(document.path);
      update();
    }
  });
  void app.restored.then(() => {
    markKernelUI(app);
    update();
  });
}

/** Put `KERNEL_UI_CLASS` on JupyterLab's kernel status item and Run and Kernel menus. */
function markKernelUI(app: JupyterFrontEnd): void {
  const visit = (widget: Widget): void => {
    if (widget instanceof KernelStatus) {
      widget.addClass(KERNEL_UI_CLASS);
    }
    if (widget instanceof MenuBar) {
      for (const menu of widget.menus) {
        if (KERNEL_MENUS.includes(menu.id)) {
          menu.title.className = `${menu.title.className} ${KERNEL_UI_CLASS}`.trim();
        }
      }
    }
    for (const child of widget.children()) {
      visit(child);
    }
  };
  for (const area of ['menu', 'top', 'bottom'] as const) {
    for (const widget of app.shell.widgets(area)) {
      visit(widget);
    }
  }
}
