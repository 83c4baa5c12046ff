import { cursorsPlugin } from './plugins/cursors';
import { providerPlugin } from './plugins/provider';
import { statusPlugin } from './plugins/status';

export default [providerPlugin, cursorsPlugin, statusPlugin];
