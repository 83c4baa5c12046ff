import { ServerConnection } from '@jupyterlab/services';

import {
  canSetDisplayName,
  checkDisplayName,
  initialsFor,
  isGuest,
  normalizeDisplayName,
  saveDisplayName
} from '../identity/display-name';

describe('display names', () => {
  it('are trimmed, one space between words, 1 to 60 characters', () => {
    expect(normalizeDisplayName('  Ms \t Smith \n')).toBe('Ms Smith');
    expect(checkDisplayName('Ms Smith')).toBeNull();
    expect(checkDisplayName('')).toMatch(/empty/);
    expect(checkDisplayName('x'.repeat(61))).toMatch(/at most 60/);
    expect(initialsFor('ms smith jones')).toBe('MS');
    expect(initialsFor('Élodie')).toBe('É');
  });

  it('may be set by anyone the identity provider lets, except guests', () => {
    const all = ['name', 'display_name', 'initials', 'color'];
    expect(canSetDisplayName({ username: 'alice', updatableFields: all })).toBe(true);
    expect(canSetDisplayName({ username: 'alice', updatableFields: ['color'] })).toBe(false);
    expect(canSetDisplayName({ username: 'alice', updatableFields: null })).toBe(false);
    expect(isGuest('guest:l1:g1')).toBe(true);
    expect(canSetDisplayName({ username: 'guest:l1:g1', updatableFields: all })).toBe(
      false
    );
    expect(canSetDisplayName(null)).toBe(false);
  });

  it('are kept through PATCH api/me, with only the fields the provider allows', async () => {
    const calls: { url: string; method: string; body: string }[] = [];
    let status = 200;
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/lab-base/',
      fetch: async (input: RequestInfo | URL) => {
        const request = input as Request;
        calls.push({
          url: request.url.split('?')[0],
          method: request.method,
          body: await request.text()
        });
        return status === 200
          ? new Response('{"status": "success"}')
          : new Response('{"message": "Field name is not updatable"}', { status });
      }
    });
    await saveDisplayName('Ms Smith', ['display_name', 'initials'], settings);
    expect(calls).toEqual([
      {
        url: 'http://localhost:8888/lab-base/api/me',
        method: 'PATCH',
        body: JSON.stringify({ display_name: 'Ms Smith', initials: 'MS' })
      }
    ]);

    status = 400;
    await expect(
      saveDisplayName('Ms Smith', ['name', 'display_name'], settings)
    ).rejects.toThrow(/not updatable/);
  });
});
