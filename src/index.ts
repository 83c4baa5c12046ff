import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

/**
 * Placeholder plugin: proves the prebuilt extension loads. The real plugins
 * arrive one per file in `src/plugins/`.
 */
const status: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-collab:status',
  description: 'Reports that jupyter-collab is loaded.',
  autoStart: true,
  activate: (_app: JupyterFrontEnd): void => {
    console.log('jupyter-collab is active');
  }
};

export default [status];
