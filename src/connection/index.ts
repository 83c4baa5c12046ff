/**
 * The frontend's connection library: a document's room websocket, its JSON events and
 * its connection state. No JupyterLab application imports; plugins wire it.
 */
export * from './address';
export * from './connection';
export * from './events';
export * from './outgoing';
export * from './saves';
export * from './state';
