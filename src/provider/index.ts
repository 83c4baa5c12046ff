/**
 * The collab content provider: JupyterLab documents served live through our rooms.
 * A library folder: no `@jupyterlab/application` imports; `plugins/provider.ts` wires it.
 * `notify.ts` (the notifications, via @jupyterlab/apputils) is imported on its own.
 */
export * from './cell-numbers';
export * from './documents';
export * from './factory';
export * from './live-documents';
export * from './provider';
export * from './status';
