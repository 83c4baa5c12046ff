/**
 * The notebook widget as people use it while others edit: keeping one's place.
 * A library folder: no `@jupyterlab/application` imports; `plugins/place.ts` wires it.
 */
export * from './place';
