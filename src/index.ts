import { commentsPlugin } from './plugins/comments';
import { cursorsPlugin } from './plugins/cursors';
import { editGuardPlugin } from './plugins/edit-guard';
import { executionPlugin } from './plugins/execution';
import { historyPlugin } from './plugins/history';
import { identityPlugin } from './plugins/identity';
import { placePlugin } from './plugins/place';
import { presencePlugin } from './plugins/presence';
import { providerPlugin } from './plugins/provider';
import { rolesPlugin } from './plugins/roles';
import { runsPlugin } from './plugins/runs';
import { sharingPlugin } from './plugins/sharing';
import { stalePlugin } from './plugins/stale';
import { statusPlugin } from './plugins/status';
import { teachingPlugin } from './plugins/teaching';
import { trustPlugin } from './plugins/trust';

export default [
  providerPlugin,
  cursorsPlugin,
  statusPlugin,
  presencePlugin,
  identityPlugin,
  stalePlugin,
  rolesPlugin,
  editGuardPlugin,
  placePlugin,
  sharingPlugin,
  executionPlugin,
  runsPlugin,
  trustPlugin,
  commentsPlugin,
  historyPlugin,
  teachingPlugin
];
