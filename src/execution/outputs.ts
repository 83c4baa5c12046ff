/**
 * Outputs that only a run can change.
 *
 * Every JupyterLab path that empties a code cell's outputs and execution count (Clear
 * Outputs, Clear All Outputs, a run without a kernel, a restart that clears) goes
 * through the cell model's `clearExecution()`. In a shared notebook that clears them
 * for everyone, so for a person who may not run code it does nothing: the outputs stay
 * what the last run by someone allowed made them.
 */

/** What the guard needs of a code cell model (`ICodeCellModel` has it). */
export interface IClearableCell {
  clearExecution(): void;
}

const GUARDED = new WeakSet<IClearableCell>();

/**
 * Make `cell.clearExecution()` do nothing while `refusal()` gives a reason (the
 * reason goes to `refused`). Guarding the same cell again does nothing.
 */
export function keepOutputsWhile(
  cell: IClearableCell,
  refusal: () => string | null,
  refused?: (reason: string) => void
): void {
  if (GUARDED.has(cell)) {
    return;
  }
  GUARDED.add(cell);
  const clear = cell.clearExecution.bind(cell);
  cell.clearExecution = (): void => {
    const reason = refusal();
    if (reason === null) {
      clear();
    } else {
      refused?.(reason);
    }
  };
}
