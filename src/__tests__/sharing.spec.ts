import { Widget } from '@lumino/widgets';

import { ILinkChange, IMembership, IShareLink, ISharingAPI, toShareLink } from '../api';
import {
  describeAgo,
  describeExpiry,
  describeUsage,
  formatTime,
  SharePanel
} from '../sharing';

/** An in-memory server for the share dialog. */
class FakeSharing implements ISharingAPI {
  members_: IMembership[] = [];
  links_: IShareLink[] = [];
  calls: string[] = [];
  fail: string | null = null;

  async members(path: string) {
    this.calls.push(`members ${path}`);
    return { role: 'owner', members: this.members_ };
  }
  async grant(path: string, principal: string, role: string) {
    this.calls.push(`grant ${path} ${principal} ${role}`);
    if (this.fail) {
      throw new Error(this.fail);
    }
    const m = { path, principal, role, granted_by: 'alice', granted_at: 0 };
    this.members_ = [...this.members_.filter(x => x.principal !== principal), m];
    return m;
  }
  async revoke(path: string, principal: string) {
    this.calls.push(`revoke ${path} ${principal}`);
    this.members_ = this.members_.filter(x => x.principal !== principal);
  }
  async links(path: string) {
    return this.links_;
  }
  async createLink(path: string, role: string, expires: number | null, label = '') {
    this.calls.push(`link ${path} ${role} ${expires} ${JSON.stringify(label)}`);
    const link = makeLink({
      id: `l${this.links_.length}`,
      path,
      role,
      label,
      url: `/base/collab/join/t${this.links_.length}`,
      expires_at: expires === null ? null : 1000 + expires
    });
    this.links_ = [...this.links_, link];
    return link;
  }
  async updateLink(path: string, id: string, change: ILinkChange) {
    this.calls.push(`link-update ${id} ${JSON.stringify(change)}`);
    this.links_ = this.links_.map(l => (l.id === id ? { ...l, ...change } : l));
    return this.links_.find(l => l.id === id)!;
  }
  async revokeLink(path: string, id: string) {
    this.calls.push(`revoke-link ${id}`);
    this.links_ = this.links_.map(l => (l.id === id ? { ...l, active: false } : l));
  }
}

function makeLink(more: Partial<IShareLink> = {}): IShareLink {
  return {
    id: 'l0',
    path: 'course/w1.ipynb',
    role: 'viewer',
    label: '',
    url: '/base/collab/join/t0',
    created_by: '4f1c0ffee4f1c0ffee4f1c0ffee4f1c0f',
    created_by_name: 'Ada Lovelace',
    created_at: 1000,
    expires_at: null,
    revoked_at: null,
    active: true,
    last_used_at: null,
    guests: [],
    ...more
  };
}

function panelWith(api: FakeSharing) {
  const copied: string[] = [];
  const panel = new SharePanel({
    path: 'course/w1.ipynb',
    api,
    absoluteUrl: url => `https://hub.example${url}`,
    copy: async text => void copied.push(text),
    now: () => 1000
  });
  return { panel, copied };
}

const q = (where: SharePanel | HTMLElement, selector: string) =>
  (where instanceof SharePanel ? where.node : where).querySelector(selector) as HTMLElement;
const click = (element: Element | null) => (element as HTMLElement).click();

describe('SharePanel', () => {
  it('lists people, with inherited roles read-only, and adds and removes people', async () => {
    const api = new FakeSharing();
    api.members_ = [
      { path: 'course', principal: 'carol', role: 'editor', granted_by: 'alice', granted_at: 0 },
      { path: 'course/w1.ipynb', principal: 'bob', role: 'viewer', granted_by: 'alice', granted_at: 0 }
    ];
    const { panel } = panelWith(api);
    await panel.refresh();

    const carol = q(panel, 'li[data-principal="carol"]');
    expect(carol.textContent).toContain('editor, from /course');
    expect(carol.querySelector('select')).toBeNull();
    const bob = q(panel, 'li[data-principal="bob"]');
    expect((bob.querySelector('select') as HTMLSelectElement).value).toBe('viewer');

    (q(panel, '.jp-collab-share-who') as HTMLInputElement).value = ' dan ';
    click(Array.from(panel.node.querySelectorAll('button')).find(b => b.textContent === 'Add')!);
    await panel.ready;
    expect(api.calls).toContain('grant course/w1.ipynb dan editor');
    expect(q(panel, 'li[data-principal="dan"]')).not.toBeNull();

    click(q(panel, 'li[data-principal="bob"]').querySelector('button'));
    await panel.ready;
    expect(api.calls).toContain('revoke course/w1.ipynb bob');
    expect(q(panel, 'li[data-principal="bob"]')).toBeNull();
  });

  it('creates a link (copied at once), changes its role, revokes it', async () => {
    const api = new FakeSharing();
    const { panel, copied } = panelWith(api);
    await panel.refresh();
    expect(panel.node.textContent).toContain('No active links');

    click(Array.from(panel.node.querySelectorAll('button')).find(b => b.textContent === 'Create link')!);
    await panel.ready;
    expect(api.calls).toContain('link course/w1.ipynb viewer 86400 ""');
    expect(copied).toEqual(['https://hub.example/base/collab/join/t0']);
    const item = q(panel, 'li[data-link-id="l0"]');
    expect(item.textContent).toContain(`expires ${formatTime(1000 + 86400)}`);
    expect(q(item, '.jp-collab-share-expiry').title).toBe('expires in 24 h');
    expect((item.querySelector('button') as HTMLElement).dataset.url).toBe(
      'https://hub.example/base/collab/join/t0'
    );

    const role = item.querySelector('select') as HTMLSelectElement;
    role.value = 'editor';
    role.dispatchEvent(new Event('change'));
    await panel.ready;
    expect(api.calls).toContain('link-update l0 {"role":"editor"}');

    click(Array.from(q(panel, 'li[data-link-id="l0"]').querySelectorAll('button')).find(b => b.textContent === 'Revoke')!);
    await panel.ready;
    expect(api.calls).toContain('revoke-link l0');
    expect(q(panel, 'li[data-link-id="l0"]')).toBeNull();
  });

  it('says why an action failed (a non-owner) and keeps the list', async () => {
    const api = new FakeSharing();
    const { panel } = panelWith(api);
    await panel.refresh();
    api.fail = 'bob has editor on /course/w1.ipynb: cannot manage';
    (q(panel, '.jp-collab-share-who') as HTMLInputElement).value = 'dan';
    click(Array.from(panel.node.querySelectorAll('button')).find(b => b.textContent === 'Add')!);
    await panel.ready;
    const status = q(panel, '.jp-collab-share-status');
    expect(status.dataset.error).toBe('true');
    expect(status.textContent).toContain('Adding failed: bob has editor');
  });

  it('shows each link with its label, expiry date, creator, guests and last use', async () => {
    const api = new FakeSharing();
    api.links_ = [
      makeLink({
        id: 'p3',
        label: 'Period 3',
        expires_at: 1000 + 86400,
        last_used_at: 1000 - 300,
        guests: [{ name: 'Zoe', joined_at: 900 }]
      }),
      makeLink({ id: 'p4', label: 'Period 4', expires_at: 1000 + 86400 }),
      makeLink({ id: 'gone', label: 'Old', active: false })
    ];
    const { panel } = panelWith(api);
    await panel.refresh();

    const rows = Array.from(panel.node.querySelectorAll('li[data-link-id]')) as HTMLElement[];
    expect(rows.map(r => r.dataset.linkId)).toEqual(['p3', 'p4']); // active links only
    const [p3, p4] = rows;
    const label = q(p3, 'input.jp-collab-share-label') as HTMLInputElement;
    expect(label.value).toBe('Period 3');
    expect(label.placeholder).toBe('Label (e.g. Period 3)');
    expect(q(p3, 'select').getAttribute('aria-label')).toBe('What the link gives');
    expect(q(p3, '.jp-collab-share-expiry').textContent).toBe(
      `expires ${formatTime(1000 + 86400)}`
    );
    expect(q(p3, '.jp-collab-share-creator').textContent).toBe('created by Ada Lovelace');
    expect(q(p3, '.jp-collab-share-usage summary').textContent).toBe(
      '1 guest joined · last used 5 min ago'
    );
    expect(q(p3, '.jp-collab-share-usage summary').title).toBe('Zoe');
    expect(q(p3, '.jp-collab-share-guests').textContent).toBe(
      `Zoe, joined ${formatTime(900)}`
    );
    expect(q(p4, '.jp-collab-share-usage').textContent).toBe('no guests yet');
    expect(p3.textContent).not.toBe(p4.textContent);
  });

  it('labels new links and relabels one in place, Enter saving instead of closing', async () => {
    const api = new FakeSharing();
    const { panel } = panelWith(api);
    Widget.attach(panel, document.body);
    await panel.refresh();

    const newLabel = q(panel, '.jp-collab-share-new-link .jp-collab-share-label') as HTMLInputElement;
    expect(newLabel.placeholder).toBe('Label (e.g. Period 3)');
    newLabel.value = ' Period 3 ';
    const closed = jest.fn();
    panel.node.addEventListener('keydown', closed); // what the dialog would do with Enter
    newLabel.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
    await panel.ready;
    expect(api.calls).toContain('link course/w1.ipynb viewer 86400 "Period 3"');
    expect(closed).not.toHaveBeenCalled();

    const label = q(panel, 'li[data-link-id="l0"] .jp-collab-share-label') as HTMLInputElement;
    expect(label.value).toBe('Period 3');
    label.value = 'Period 4';
    label.dispatchEvent(new Event('change'));
    await panel.ready;
    expect(api.calls).toContain('link-update l0 {"label":"Period 4"}');
    const again = q(panel, 'li[data-link-id="l0"] .jp-collab-share-label') as HTMLInputElement;
    expect(again.value).toBe('Period 4');
    again.dispatchEvent(new Event('change')); // unchanged: no call
    await panel.ready;
    expect(api.calls.filter(c => c.startsWith('link-update'))).toHaveLength(1);
    Widget.detach(panel);
  });

  it('describes use in words', () => {
    expect(describeAgo(1000, 1030)).toBe('just now');
    expect(describeAgo(1000, 1000 + 5 * 60)).toBe('5 min ago');
    expect(describeAgo(0, 3 * 3600)).toBe('3 h ago');
    expect(describeAgo(0, 3 * 86400)).toBe('3 days ago');
    const guests = [
      { name: 'Zoe', joined_at: 0 },
      { name: 'Yann', joined_at: 1 }
    ];
    expect(describeUsage(makeLink(), 0)).toBe('no guests yet');
    expect(describeUsage(makeLink({ guests, last_used_at: 0 }), 7200)).toBe(
      '2 guests joined · last used 2 h ago'
    );
  });

  it('describes expiries in words', () => {
    expect(describeExpiry(null, 0)).toBe('no expiry');
    expect(describeExpiry(600, 0)).toBe('expires in 10 min');
    expect(describeExpiry(7200, 0)).toBe('expires in 2 h');
    expect(describeExpiry(7 * 86400, 0)).toBe('expires in 7 days');
  });
});

describe('toShareLink', () => {
  const wire = {
    id: 'l1',
    path: 'a.ipynb',
    role: 'editor',
    label: 'Period 3',
    url: '/collab/join/tok',
    created_by: 'alice',
    created_by_name: 'Alice A.',
    created_at: 10,
    expires_at: null,
    revoked_at: null,
    active: true,
    last_used_at: 20,
    guests: [{ name: 'Zoe', joined_at: 15 }]
  };

  it('reads a link, field for field', () => {
    expect(toShareLink(wire)).toEqual(wire);
  });

  it('gives a link from an older server an empty label, guests and last use', () => {
    const { label, created_by_name, last_used_at, guests, ...old } = wire;
    expect(toShareLink(old)).toEqual({
      ...old,
      label: '',
      created_by_name: 'alice',
      last_used_at: null,
      guests: []
    });
  });

  it('refuses what is not a link', () => {
    for (const bad of [
      null,
      [],
      { ...wire, id: 3 },
      { ...wire, label: 3 },
      { ...wire, expires_at: '2025' },
      { ...wire, guests: [{ name: 'Zoe' }] },
      { ...wire, guests: 'Zoe' }
    ]) {
      expect(() => toShareLink(bad)).toThrow(TypeError);
    }
  });
});
