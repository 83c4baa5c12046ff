/**
 * A `jupyter lab` that a test owns: started, stopped (SIGTERM or SIGKILL) and
 * started again on the same port, root and state, or on a fresh state.
 *
 * The server of playwright.config.js (`webServer`) cannot be restarted by a test,
 * so tests about restarts start their own, with the same configuration file
 * (jupyter_server_test_config.py, which reads COLLAB_UI_PORT, COLLAB_UI_ROOT and
 * COLLAB_UI_STATE):
 *
 *   const server = new LabServer({ port: configPort + 7 });
 *   await server.start();                  // resolves once /api/status answers
 *   const page = await openAs(browser, 'alice', 'x.ipynb', { baseURL: server.baseURL });
 *   await server.stop('SIGKILL');          // resolves once the process has exited
 *   await server.start();                  // same port, root and state: same history
 *   await server.start({ freshState: true }); // (after a stop) a new, empty state dir
 *   await server.dispose();                // stop if running, delete the temp dirs
 *
 * Everything lives in one temporary folder that `dispose()` deletes:
 *   root/      the server's root_dir (COLLAB_UI_ROOT)
 *   state-N/   history database, workspaces, user settings (COLLAB_UI_STATE)
 *   runtime/   JUPYTER_RUNTIME_DIR: the cookie secret (kept across restarts, as on a
 *              real machine, so the browsers' login cookies stay valid), kernel
 *              connection files and the server's own info files
 *   server-N.log  the output of each start
 *
 * Only the process this object spawned is signalled, by its pid. Its kernels are its
 * children: a SIGTERM shuts them down with the server; after a SIGKILL they notice
 * that their parent is gone and exit by themselves.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { USERS } from './helpers';

/** ui-tests/, where jupyter_server_test_config.py lives. */
const UI_TESTS = path.resolve(__dirname, '..');

/** The port of the server that playwright.config.js starts. */
export function configPort(): number {
  return Number(process.env.COLLAB_UI_PORT || '18893');
}

export interface ILabServerOptions {
  /** Port on 127.0.0.1; it must be free (the configuration does not drift). */
  port: number;
  /** More `jupyter lab` arguments, e.g. `--LabApp.expose_app_in_browser=True`. */
  args?: string[];
  /** How long `start()` waits for /api/status, in ms (default 120 000). */
  startTimeoutMs?: number;
  /**
   * Run a plain `jupyter lab` with this server token instead of the test identities
   * of jupyter_server_test_config.py: token login, the token holder owns everything,
   * everyone else comes through share links (as people run it).
   */
  plainToken?: string;
}

export interface IStartOptions {
  /** Start on a new, empty state folder: a new history database (new epochs). */
  freshState?: boolean;
}

export class LabServer {
  constructor(options: ILabServerOptions) {
    this.port = options.port;
    this._args = options.args ?? [];
    this._startTimeoutMs = options.startTimeoutMs ?? 120_000;
    this.token = options.plainToken ?? null;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'collab-ui-server-'));
    this.root = path.join(this.dir, 'root');
    this.runtime = path.join(this.dir, 'runtime');
    fs.mkdirSync(this.root);
    fs.mkdirSync(this.runtime);
    this._newState();
  }

  /** The port the server listens on. */
  readonly port: number;
  /** The server token of a plain server (`plainToken`), else `null`. */
  readonly token: string | null;
  /** The temporary folder holding everything below. */
  readonly dir: string;
  /** The server's root_dir. */
  readonly root: string;
  /** JUPYTER_RUNTIME_DIR (cookie secret, kernel connection files). */
  readonly runtime: string;

  /** The current state folder (history database, workspaces, settings). */
  get state(): string {
    return this._state;
  }

  /** `http://127.0.0.1:<port>`, for browser contexts and request contexts. */
  get baseURL(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The pid of the running server, or `null`. */
  get pid(): number | null {
    return this._proc?.pid ?? null;
  }

  /** The output of the current (or last) run, for failure messages. */
  get log(): string {
    return this._logFile && fs.existsSync(this._logFile)
      ? fs.readFileSync(this._logFile, 'utf-8')
      : '';
  }

  /**
   * Start `jupyter lab --config jupyter_server_test_config.py` (from ui-tests/, with
   * `jupyter` from PATH) and wait until `/api/status` answers 200.
   *
   * Raises:
   *   Error: already running; the port is taken; the process exited before it
   *     answered; or it did not answer within `startTimeoutMs` (the process is then
   *     killed). The message ends with the tail of the server's log.
   */
  async start(options: IStartOptions = {}): Promise<void> {
    if (this._proc !== null) {
      throw new Error(`The server on port ${this.port} is running already.`);
    }
    if (options.freshState) {
      this._newState();
    }
    if (await this._answers(1000)) {
      throw new Error(`Port ${this.port} is taken by another server.`);
    }
    this._runs += 1;
    this._logFile = path.join(this.dir, `server-${this._runs}.log`);
    const log = fs.openSync(this._logFile, 'w');
    const configArgs =
      this.token === null
        ? ['--config', 'jupyter_server_test_config.py']
        : [
            '--no-browser',
            '--allow-root',
            '--ServerApp.ip=127.0.0.1',
            `--ServerApp.port=${this.port}`,
            '--ServerApp.port_retries=0',
            `--ServerApp.root_dir=${this.root}`,
            `--IdentityProvider.token=${this.token}`,
            `--CollabApp.history_db_path=${path.join(this._state, 'history.sqlite')}`
          ];
    const proc = spawn(
      'jupyter',
      ['lab', ...configArgs, ...this._args],
      {
        cwd: UI_TESTS,
        env: {
          ...process.env,
          COLLAB_UI_PORT: String(this.port),
          COLLAB_UI_ROOT: this.root,
          COLLAB_UI_STATE: this._state,
          JUPYTER_RUNTIME_DIR: this.runtime,
          // a plain server keeps its settings and workspaces in the state folder
          JUPYTERLAB_SETTINGS_DIR: path.join(this._state, 'settings'),
          JUPYTERLAB_WORKSPACES_DIR: path.join(this._state, 'workspaces')
        },
        stdio: ['ignore', log, log]
      }
    );
    fs.closeSync(log);
    this._proc = proc;
    this._exited = new Promise(resolve => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
    });
    let exitedEarly = false;
    void this._exited.then(() => {
      exitedEarly = true;
      if (this._proc === proc) {
        this._proc = null;
      }
    });
    const deadline = Date.now() + this._startTimeoutMs;
    while (Date.now() < deadline) {
      if (exitedEarly) {
        throw new Error(
          `jupyter lab exited before it answered on port ${this.port}:\n${this._tail()}`
        );
      }
      if (await this._answers(2000)) {
        return;
      }
      await new Promise(resolve => setTimeout(resolve, 200));
    }
    await this.stop('SIGKILL');
    throw new Error(
      `jupyter lab did not answer on port ${this.port} within ${this._startTimeoutMs} ms:\n${this._tail()}`
    );
  }

  /**
   * Signal the server (by its pid) and wait until it has exited. SIGTERM is a clean
   * shutdown (rooms saved, clients closed with 1001); SIGKILL is a crash (clients see
   * 1006). A SIGTERM that has not ended the process after `timeoutMs` is followed by
   * a SIGKILL. Does nothing when not running.
   */
  async stop(
    signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM',
    timeoutMs = 30_000
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const proc = this._proc;
    if (proc === null || this._exited === null) {
      return { code: null, signal: null };
    }
    const exited = this._exited;
    proc.kill(signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>(resolve => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    let result = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      proc.kill('SIGKILL');
      result = await exited;
    }
    this._proc = null;
    return result;
  }

  /** `stop(signal)` then `start(options)`. */
  async restart(
    signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM',
    options: IStartOptions = {}
  ): Promise<void> {
    await this.stop(signal);
    await this.start(options);
  }

  /** Copy the output of each start next to the test's screenshots. */
  keepLogs(testInfo: { outputPath: (name: string) => string }): void {
    for (const name of fs.readdirSync(this.dir)) {
      if (name.endsWith('.log')) {
        fs.copyFileSync(path.join(this.dir, name), testInfo.outputPath(name));
      }
    }
  }

  /** Stop the server if it runs (SIGTERM), then delete the temporary folder. */
  async dispose(): Promise<void> {
    await this.stop('SIGTERM');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Whether something on the port answers /api/status with 200. */
  private async _answers(timeoutMs: number): Promise<boolean> {
    try {
      const response = await fetch(
        `${this.baseURL}/api/status?token=${this.token ?? USERS.alice.token}`,
        { signal: AbortSignal.timeout(timeoutMs) }
      );
      return response.status === 200;
    } catch {
      return false;
    }
  }

  private _newState(): void {
    this._stateCount += 1;
    this._state = path.join(this.dir, `state-${this._stateCount}`);
    fs.mkdirSync(this._state);
  }

  private _tail(lines = 40): string {
    return this.log.split('\n').slice(-lines).join('\n');
  }

  private readonly _args: string[];
  private readonly _startTimeoutMs: number;
  private _proc: ChildProcess | null = null;
  private _exited: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
  }> | null = null;
  private _state = '';
  private _stateCount = 0;
  private _runs = 0;
  private _logFile: string | null = null;
}
