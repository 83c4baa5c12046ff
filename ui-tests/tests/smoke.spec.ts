/**
 * Smoke test of the browser-test setup itself; it does not need the frontend
 * collaboration wiring. Two users, each in its own browser context:
 * JupyterLab loads, /api/me (fetched by the page with its login cookie) names
 * the right user and survives a reload, and the collab server extension
 * answers the session call for both.
 */
import { expect, test } from '@playwright/test';

import {
  fetchInPage,
  notebook,
  openAs,
  putFile,
  reloadLab,
  USERS,
  UserName
} from './helpers';

test('each user loads JupyterLab as itself and reaches the collab server extension', async ({
  browser,
  request
}) => {
  await putFile(request, 'alice', 'smoke.ipynb', notebook('x = 1'));
  await putFile(request, 'alice', 'smoke.py', 'print("smoke")\n');

  const users: UserName[] = ['alice', 'bob'];
  const pages = await Promise.all(users.map(u => openAs(browser, u)));
  const docIds: Record<string, string[]> = {};

  for (const [i, user] of users.entries()) {
    const page = pages[i];
    const spec = USERS[user];

    // the labextension is installed and offered to the page
    const federated = await page.evaluate(() => {
      const el = document.getElementById('jupyter-config-data');
      return (JSON.parse(el!.textContent!).federated_extensions ?? []).map(
        (e: { name: string }) => e.name
      );
    });
    expect(federated).toContain('jupyter-collab');

    // identity, as the frontend sees it (cookie auth, no token in the request)
    const me = await fetchInPage(page, 'GET', '/api/me');
    expect(me.status).toBe(200);
    expect(me.json.identity).toMatchObject({
      username: user,
      name: spec.name,
      display_name: spec.display_name,
      initials: spec.initials,
      color: spec.color
    });

    // the session call of the collab server extension, for both types
    for (const [file, type] of [
      ['smoke.ipynb', 'notebook'],
      ['smoke.py', 'file']
    ]) {
      const session = await fetchInPage(
        page,
        'PUT',
        `/api/collab/session/${file}`,
        { type }
      );
      expect(session.status, session.text).toBe(200);
      expect(session.json).toMatchObject({ path: file, type });
      expect(session.json.room).toBe(`api/collab/room/${session.json.doc_id}`);
      (docIds[file] ??= []).push(session.json.doc_id);
    }

    // cookie-authenticated writes need the XSRF header, as for any Jupyter PUT
    const noXsrf = await fetchInPage(
      page,
      'PUT',
      '/api/collab/session/smoke.ipynb',
      { type: 'notebook' },
      { xsrf: false }
    );
    expect(noXsrf.status).toBe(403);
  }

  // both users got the same room per document
  for (const ids of Object.values(docIds)) {
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
  }

  // the login cookie keeps each identity across a reload
  for (const [i, user] of users.entries()) {
    await reloadLab(pages[i]);
    const me = await fetchInPage(pages[i], 'GET', '/api/me');
    expect(me.json.identity.username).toBe(user);
  }

  await Promise.all(pages.map(p => p.context().close()));
});

test('requests without a known token or login cookie are refused', async ({
  request
}) => {
  expect((await request.get('/api/me')).status()).toBe(403);
  expect(
    (
      await request.get('/api/me', {
        headers: { Authorization: 'token not-a-user-token' }
      })
    ).status()
  ).toBe(403);
  const bob = await request.get(`/api/me?token=${USERS.bob.token}`);
  expect(bob.status()).toBe(200);
  expect((await bob.json()).identity.username).toBe('bob');
});
