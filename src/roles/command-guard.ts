/**
 * A veto over a command registry: commands a check forbids are disabled wherever they
 * are offered, and do nothing when run anyway.
 *
 * JupyterLab's notebook commands decide `isEnabled` by themselves and a command cannot
 * be registered twice, so the veto wraps the registry: Lumino's menus, context menus,
 * toolbar buttons, the palette and key bindings all ask `commands.isEnabled` (a key
 * binding of a disabled command is skipped), and programmatic callers go through
 * `commands.execute`.
 */
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';

/** Why a command may not run now, or `null` when it may. */
export type CommandVeto = (id: string, args: ReadonlyPartialJSONObject) => string | null;

/** What the guard wraps: Lumino's `CommandRegistry`. */
export interface GuardedRegistry {
  isEnabled(id: string, args?: ReadonlyPartialJSONObject): boolean;
  execute(id: string, args?: ReadonlyPartialJSONObject): Promise<any>;
}

/**
 * Wrap `commands` so that `veto` can disable commands.
 *
 * Args:
 *   commands: the application's registry.
 *   veto: asked for every command in `ids` (others are not asked, to keep
 *     `isEnabled` cheap).
 *   ids: the commands the veto may forbid.
 *   refused: told the reason when a forbidden command is executed anyway (it then
 *     resolves to `undefined` without running).
 *
 * Returns:
 *   A handle whose `dispose()` removes the wrapping.
 */
export function guardCommands(
  commands: GuardedRegistry,
  veto: CommandVeto,
  ids: Iterable<string>,
  refused: (reason: string) => void = () => undefined
): IDisposable {
  const guarded = new Set(ids);
  const isEnabled = commands.isEnabled;
  const execute = commands.execute;
  const why = (id: string, args?: ReadonlyPartialJSONObject): string | null =>
    guarded.has(id) ? veto(id, args ?? {}) : null;
  const wrappedIsEnabled: GuardedRegistry['isEnabled'] = function (
    this: unknown,
    id,
    args
  ) {
    return why(id, args) === null && isEnabled.call(this, id, args);
  };
  const wrappedExecute: GuardedRegistry['execute'] = function (this: unknown, id, args) {
    const reason = why(id, args);
    if (reason !== null) {
      refused(reason);
      return Promise.resolve(undefined);
    }
    return execute.call(this, id, args);
  };
  commands.isEnabled = wrappedIsEnabled;
  commands.execute = wrappedExecute;
  let disposed = false;
  return {
    get isDisposed() {
      return disposed;
    },
    dispose() {
      if (disposed) {
        return;
      }
      disposed = true;
      // only undo our own wrapping: someone may have wrapped ours since
      if (commands.isEnabled === wrappedIsEnabled) {
        commands.isEnabled = isEnabled;
      }
      if (commands.execute === wrappedExecute) {
        commands.execute = execute;
      }
    }
  };
}
