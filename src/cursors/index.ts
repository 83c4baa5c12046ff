/**
 * Remote cursors for CodeMirror 6 editors bound to a Y.Text. A library
 * folder: no JupyterLab imports, nothing registered here.
 */

export * from './local-cursor';
export * from './model';
export * from './remote-cursors';
export { remoteCursorsTheme, USER_COLOR_PROPERTY } from './theme';
