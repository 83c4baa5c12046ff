/**
 * One browser measurement for bench/browser.py, on Debian's /usr/bin/chromium.
 *
 *   node bench/browser/measure.mjs <job.json> <result.json>
 *
 * The job file says what to do (`job`: "open" or "keys", plus URLs and expected
 * texts); the result file receives the raw numbers as JSON. Playwright comes from
 * ui-tests/node_modules (`cd ui-tests && jlpm install`); never `npx playwright
 * install`. Every time here is taken *inside* the page, in milliseconds, either
 * relative to the page's navigation start (`performance.now()`) or on the wall clock
 * shared by all pages of this browser (`performance.timeOrigin + performance.now()`),
 * so Playwright's own round trips never enter a number.
 *
 * open: one fresh browser context loads the lab URL of a notebook. An observer
 *   installed before any page script runs records the first moment the visible
 *   notebook's first cell has a CodeMirror `.cm-content` with
 *   contenteditable="true" whose text (its `.cm-line`s joined by "\n", widgets such as
 *   remote carets left out) equals the notebook's first cell source: the cell is
 *   rendered, holds the document's content, and takes keystrokes.
 *
 * keys: two contexts (two users) open the same notebook, A then B. With `handshake`
 *   the job then prints READY and waits for a line on stdin (the driver lets the kernel
 *   start and the machine settle). A types `text` at the end of cell 0, one key per
 *   `gapMs`; a capture-phase keydown listener in A records when each key reached the
 *   page. A MutationObserver in B, on the notebook, records when B's cell 0 text first
 *   contained each typed prefix. latency(k) = B(k) - A(k).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const UI_TESTS = path.resolve(HERE, '..', '..', 'ui-tests');
const requireUi = createRequire(path.join(UI_TESTS, 'package.json'));

/** Playwright's chromium launcher from ui-tests/node_modules. */
function chromiumLauncher() {
  for (const name of ['playwright-core', '@playwright/test']) {
    try {
      return requireUi(name).chromium;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    `no playwright in ${UI_TESTS}/node_modules: run \`cd ui-tests && jlpm install\``
  );
}

const LAUNCH = {
  executablePath: '/usr/bin/chromium',
  headless: true,
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
};

const VIEWPORT = { width: 1280, height: 800 };

/**
 * Installed in every page before JupyterLab's scripts (addInitScript): the helpers
 * both jobs read the page with. Runs in the page, so it must be self-contained.
 */
function pageHelpers() {
  // CodeMirror widgets (remote carets of ours and of y-codemirror) carry DOM text
  // (the user's name) inside .cm-content; they are not the document's text.
  const WIDGETS =
    '[contenteditable="false"], .jp-CollabRemoteCursor, .cm-ySelectionCaret, .cm-ySelectionInfo';
  const bench = {
    /** The wall clock shared by every page of this browser, in ms. */
    now: () => performance.timeOrigin + performance.now(),
    /** The visible notebook's first cell editor, or null. */
    firstEditor() {
      const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
      return panel ? panel.querySelector('.jp-Notebook .jp-Cell .cm-content') : null;
    },
    /** An editor's text: its lines joined with "\n", without widgets. */
    text(el) {
      const copy = el.cloneNode(true);
      copy.querySelectorAll(WIDGETS).forEach(n => n.remove());
      const lines = Array.from(copy.querySelectorAll('.cm-line'));
      return lines.length
        ? lines.map(l => l.textContent ?? '').join('\n')
        : copy.textContent ?? '';
    },
    /** Titles of the JupyterLab dialogs shown now. */
    dialogs() {
      return Array.from(document.querySelectorAll('.jp-Dialog')).map(
        d => (d.querySelector('.jp-Dialog-header')?.textContent ?? '').trim() || '(untitled)'
      );
    }
  };
  window.__bench = bench;
}

/** In the page, from navigation start: record the first moment the first cell is ready. */
function openObserver(expected) {
  const bench = window.__bench;
  const state = { readyAt: null, splashSeen: false, splashGoneAt: null, panelAt: null, checks: 0 };
  window.__benchOpen = state;
  let observer = null;
  const check = () => {
    state.checks += 1;
    const t = performance.now();
    // where the time went: JupyterLab started (splash gone), notebook panel attached
    if (document.getElementById('jupyterlab-splash')) {
      state.splashSeen = true;
    } else if (state.splashSeen && state.splashGoneAt === null) {
      state.splashGoneAt = t;
    }
    if (state.panelAt === null && document.querySelector('.jp-NotebookPanel')) {
      state.panelAt = t;
    }
    const cm = bench.firstEditor();
    if (cm && cm.getAttribute('contenteditable') === 'true' && bench.text(cm) === expected) {
      state.readyAt = t;
      if (observer) observer.disconnect();
    }
  };
  const start = () => {
    observer = new MutationObserver(check);
    observer.observe(document, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ['contenteditable', 'class']
    });
    check();
  };
  start();
}

async function withBrowser(fn) {
  const browser = await chromiumLauncher().launch(LAUNCH);
  try {
    return await fn(browser);
  } finally {
    await browser.close();
  }
}

async function newPage(browser, errors, who) {
  const context = await browser.newContext({ viewport: VIEWPORT });
  await context.addInitScript(pageHelpers);
  const page = await context.newPage();
  page.on('pageerror', e => errors.push(`${who}: ${String(e).slice(0, 300)}`));
  return page;
}

async function readyOpen(page, timeout) {
  await page.waitForFunction(() => window.__benchOpen && window.__benchOpen.readyAt !== null, null, {
    timeout
  });
}

/** Job "open": ms from navigation start until the first cell is rendered and editable. */
async function jobOpen(job) {
  return withBrowser(async browser => {
    const errors = [];
    const page = await newPage(browser, errors, 'page');
    await page.context().addInitScript(openObserver, job.expected);
    const t0 = performance.now();
    await page.goto(job.url);
    const gotoMs = performance.now() - t0;
    let timedOut = false;
    try {
      await readyOpen(page, job.timeoutMs);
    } catch (e) {
      timedOut = true;
      errors.push(`not ready after ${job.timeoutMs} ms: ${String(e).slice(0, 200)}`);
    }
    const nodeMs = performance.now() - t0;
    const state = await page.evaluate(() => ({
      ...window.__benchOpen,
      dialogs: window.__bench.dialogs(),
      cells: document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell').length,
      text: (() => {
        const cm = window.__bench.firstEditor();
        return cm ? window.__bench.text(cm) : null;
      })(),
      nav: (() => {
        const n = performance.getEntriesByType('navigation')[0];
        return n ? { domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd } : null;
      })()
    }));
    return {
      ready_ms: timedOut ? null : state.readyAt,
      panel_ms: state.panelAt,
      splash_gone_ms: state.splashGoneAt,
      node_ms: nodeMs,
      goto_ms: gotoMs,
      dom_content_loaded_ms: state.nav ? state.nav.domContentLoaded : null,
      observer_checks: state.checks,
      rendered_cells: state.cells,
      dialogs: state.dialogs,
      first_cell_text_ok: state.text === job.expected,
      timed_out: timedOut,
      errors
    };
  });
}

/** A page's clock minus node's, from the round trip with the smallest delay. */
async function clockOffset(page) {
  let best = null;
  for (let i = 0; i < 9; i++) {
    const n0 = performance.timeOrigin + performance.now();
    const p = await page.evaluate(() => window.__bench.now());
    const n1 = performance.timeOrigin + performance.now();
    if (best === null || n1 - n0 < best.rtt) {
      best = { rtt: n1 - n0, offset: p - (n0 + n1) / 2 };
    }
  }
  return best;
}

/** The server's name for the page's user (GET /api/me with the page's cookies). */
async function whoAmI(page) {
  return page.evaluate(async () => {
    const reply = await fetch('/api/me', { credentials: 'same-origin' });
    const me = await reply.json();
    return me.identity ? me.identity.username : null;
  });
}

/** Click every dialog's default button; the titles of what was dismissed. */
async function dismissDialogs(page) {
  const titles = await page.evaluate(() => window.__bench.dialogs());
  for (let i = 0; i < titles.length; i++) {
    const accept = page.locator('.jp-Dialog .jp-Dialog-button.jp-mod-accept').first();
    if (await accept.count()) {
      await accept.click();
    } else {
      await page.keyboard.press('Escape');
    }
  }
  return titles;
}

/**
 * With `job.handshake`: print READY and wait for a line on stdin. The driver lets the
 * machine settle in between (kernel started, servers and pages idle).
 */
async function handshake(job) {
  if (!job.handshake) return;
  process.stdout.write('READY\n');
  await new Promise((resolve, reject) => {
    let buffer = '';
    process.stdin.setEncoding('utf-8');
    process.stdin.on('data', chunk => {
      buffer += chunk;
      if (buffer.includes('\n')) {
        process.stdin.pause();
        resolve();
      }
    });
    process.stdin.on('end', () => reject(new Error('stdin closed before GO')));
  });
}

/** Job "keys": keystroke-to-remote-render latency between two users. */
async function jobKeys(job) {
  return withBrowser(async browser => {
    const errors = [];
    const a = await newPage(browser, errors, 'A');
    const b = await newPage(browser, errors, 'B');
    const editorReady = expected => {
      const cm = window.__bench.firstEditor();
      return (
        cm !== null &&
        cm.getAttribute('contenteditable') === 'true' &&
        window.__bench.text(cm) === expected
      );
    };
    // one after the other, as two people would: opened at the same instant, both pages
    // ask for the notebook's kernel session at once and jupyter_server starts two
    for (const [page, url] of [
      [a, job.urlA],
      [b, job.urlB]
    ]) {
      await page.goto(url);
      await page.waitForFunction(editorReady, job.initial, { timeout: job.timeoutMs });
    }
    const users = { A: await whoAmI(a), B: await whoAmI(b) };
    const dialogs = { A: await dismissDialogs(a), B: await dismissDialogs(b) };

    // B: when did each typed prefix first show up in cell 0?
    await b.evaluate(
      ({ initial, typed }) => {
        const bench = window.__bench;
        const state = {
          arrivals: new Array(typed.length).fill(null),
          shown: 0,
          mismatches: 0,
          lastText: null
        };
        window.__benchKeys = state;
        const onChange = () => {
          const t = bench.now();
          const cm = bench.firstEditor();
          if (!cm) return;
          const text = bench.text(cm);
          if (text === state.lastText) return;
          state.lastText = text;
          if (!text.startsWith(initial)) {
            state.mismatches += 1;
            return;
          }
          const got = text.slice(initial.length);
          let n = 0;
          while (n < got.length && n < typed.length && got[n] === typed[n]) n += 1;
          if (n < got.length) state.mismatches += 1;
          for (let k = state.shown; k < n; k++) state.arrivals[k] = t;
          state.shown = Math.max(state.shown, n);
        };
        const root = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
        new MutationObserver(onChange).observe(root, {
          subtree: true,
          childList: true,
          characterData: true
        });
      },
      { initial: job.initial, typed: job.text }
    );

    // A: focus the end of cell 0 (edit mode: in command mode letters are shortcuts)
    const editorA = a.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell .cm-content').first();
    await editorA.click();
    await a.keyboard.press('Control+End');
    await a.waitForFunction(
      () => {
        const cm = window.__bench.firstEditor();
        return cm !== null && cm.contains(document.activeElement);
      },
      null,
      { timeout: job.timeoutMs }
    );
    await a.evaluate(() => {
      const keys = [];
      window.__benchKeydowns = keys;
      window.addEventListener(
        'keydown',
        e => {
          if (e.key.length === 1) keys.push([e.key, window.__bench.now()]);
        },
        true
      );
    });
    const skew = { A: await clockOffset(a), B: await clockOffset(b) };
    await handshake(job);

    const start = performance.now() + 20;
    const late = [];
    for (let k = 0; k < job.text.length; k++) {
      const wait = start + k * job.gapMs - performance.now();
      if (wait > 0) {
        await new Promise(resolve => setTimeout(resolve, wait));
      } else {
        late.push(-wait);
      }
      await a.keyboard.type(job.text[k]);
    }
    const typingMs = performance.now() - start;

    const expected = job.initial + job.text;
    let converged = true;
    try {
      await b.waitForFunction(
        text => window.__benchKeys.lastText === text,
        expected,
        { timeout: job.timeoutMs }
      );
      await a.waitForFunction(
        text => {
          const cm = window.__bench.firstEditor();
          return cm !== null && window.__bench.text(cm) === text;
        },
        expected,
        { timeout: job.timeoutMs }
      );
    } catch (e) {
      converged = false;
      errors.push(`texts did not converge: ${String(e).slice(0, 200)}`);
    }
    const finalText = {
      A: await a.evaluate(() => {
        const cm = window.__bench.firstEditor();
        return cm ? window.__bench.text(cm) : null;
      }),
      B: await b.evaluate(() => window.__benchKeys.lastText)
    };
    const keydowns = await a.evaluate(() => window.__benchKeydowns);
    const seen = await b.evaluate(() => window.__benchKeys);
    const typedOk =
      keydowns.length === job.text.length && keydowns.every(([key], k) => key === job.text[k]);
    if (!typedOk) {
      errors.push(`A saw ${keydowns.length} keydowns for ${job.text.length} keys`);
    }
    const latencies = [];
    for (let k = 0; k < job.text.length; k++) {
      const sent = keydowns[k] ? keydowns[k][1] : null;
      const shown = seen.arrivals[k];
      latencies.push(sent !== null && shown !== null ? shown - sent : null);
    }
    return {
      users,
      dialogs,
      keys: job.text.length,
      arrived: seen.arrivals.filter(t => t !== null).length,
      latencies_ms: latencies,
      mismatches: seen.mismatches,
      converged,
      final_text_ok: { A: finalText.A === expected, B: finalText.B === expected },
      keydowns_ok: typedOk,
      typing_ms: typingMs,
      late_keys: late.length,
      clock: {
        // B's clock minus A's, and the most either estimate can be off by
        skew_ms: skew.B.offset - skew.A.offset,
        uncertainty_ms: (skew.A.rtt + skew.B.rtt) / 2
      },
      errors
    };
  });
}

async function main() {
  const [jobPath, resultPath] = process.argv.slice(2);
  if (!jobPath || !resultPath) {
    throw new Error('usage: node measure.mjs <job.json> <result.json>');
  }
  const job = JSON.parse(readFileSync(jobPath, 'utf-8'));
  const jobs = { open: jobOpen, keys: jobKeys };
  if (!(job.job in jobs)) {
    throw new Error(`unknown job ${job.job}`);
  }
  const result = await jobs[job.job](job);
  writeFileSync(resultPath, JSON.stringify(result));
}

main().catch(e => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
