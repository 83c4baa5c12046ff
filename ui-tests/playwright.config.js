/**
 * Browser tests for jupyter-collab: plain @playwright/test driving Debian's
 * /usr/bin/chromium (never `npx playwright install`) against a throw-away
 * `jupyter lab` with test-only identities (jupyter_server_test_config.py).
 *
 *   cd ui-tests && jlpm install
 *   PATH=/path/to/venv/bin:$PATH jlpm playwright test            # everything
 *   PATH=/path/to/venv/bin:$PATH jlpm playwright test tests/smoke.spec.ts
 *
 * `jupyter` must be on PATH. COLLAB_UI_PORT picks the port (default 18893).
 */
const fs = require('fs');
const path = require('path');
const { defineConfig } = require('@playwright/test');

const PORT = process.env.COLLAB_UI_PORT || '18893';
// the server's root_dir, and its history db, workspaces and user settings; both can be
// moved (COLLAB_UI_ROOT, COLLAB_UI_STATE) to run two test servers side by side
const ROOT = path.resolve(process.env.COLLAB_UI_ROOT || path.join(__dirname, '.root'));
const STATE = path.resolve(process.env.COLLAB_UI_STATE || path.join(__dirname, '.state'));
const USERS = require('./users.json');

// Fresh server state on every run. This file is evaluated by the runner before
// webServer starts (and again in each worker, where reuseExistingServer is moot:
// only the main process owns the server), so only clean up in the main process.
if (!process.env.TEST_WORKER_INDEX) {
  for (const dir of [ROOT, STATE]) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
  }
}
process.env.COLLAB_UI_PORT = PORT;
// the server token of the test server (the owner's, as on a plain `jupyter lab`); specs check
// that no guest is ever served it
process.env.COLLAB_UI_SERVER_TOKEN =
  process.env.COLLAB_UI_SERVER_TOKEN || `srv${Date.now().toString(16)}${process.pid}`;

module.exports = defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  workers: 1,
  retries: 0,
  timeout: 120 * 1000,
  expect: { timeout: 30 * 1000 },
  reporter: [['list'], ['html', { open: 'never' }]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    viewport: { width: 1280, height: 800 },
    // video needs Playwright's own ffmpeg download, which is not available here
    video: 'off',
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    }
  },
  webServer: {
    command: 'jupyter lab --config jupyter_server_test_config.py',
    cwd: __dirname,
    env: {
      ...process.env,
      COLLAB_UI_PORT: PORT,
      COLLAB_UI_ROOT: ROOT,
      COLLAB_UI_STATE: STATE
    },
    // 2xx/3xx/400-403 count as "up"
    url: `http://127.0.0.1:${PORT}/api/status?token=${USERS.alice.token}`,
    timeout: 120 * 1000,
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe'
  }
});
