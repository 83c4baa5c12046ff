/**
 * The notebook cell executor, guarded: a code cell of a notebook where this person may
 * not run code is left exactly as it is.
 *
 * JupyterLab's own executor (`runCell`), asked to run a cell without a kernel, first
 * offers to select one ("Select Kernel", with only "No Kernel" for people who may not
 * start kernels), then clears the cell's outputs and execution count: for everyone,
 * since the notebook is shared. Here nothing happens to the cell; `refused` is told so
 * the person learns why.
 */
import type { INotebookCellExecutor } from '@jupyterlab/notebook';

/** Options of `guardedExecutor`. */
export interface IGuardedExecutorOptions {
  /** The executor that runs cells people may run (JupyterLab's `runCell`). */
  readonly base: INotebookCellExecutor;
  /**
   * Why code may not run in the notebook of this shared model, or `null` when it may.
   */
  refusal(sharedModel: unknown): string | null;
  /** Called when a code cell was not run, with the reason. */
  refused?(reason: string, options: INotebookCellExecutor.IRunCellOptions): void;
}

/**
 * An executor that hands every cell to `base`, except the code cells of notebooks
 * where `refusal` gives a reason: those are reported as not run (`false`) and stay
 * untouched. Markdown cells still render (that changes nothing shared).
 */
export function guardedExecutor(options: IGuardedExecutorOptions): INotebookCellExecutor {
  return Object.freeze({
    runCell: async (run: INotebookCellExecutor.IRunCellOptions): Promise<boolean> => {
      if (run.cell.model.type === 'code') {
        const reason = options.refusal(run.notebook.sharedModel);
        if (reason !== null) {
          options.refused?.(reason, run);
          return false;
        }
      }
      return options.base.runCell(run);
    }
  });
}
