import { IMembership, IShareLink, ISharingAPI } from '../api';
import { describeExpiry, SharePanel } from '../sharing';

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
  async createLink(path: string, role: string, expires: number | null) {
    this.calls.push(`link ${path} ${role} ${expires}`);
    const link: IShareLink = {
      id: `l${this.links_.length}`,
      path,
      role,
      url: `/base/collab/join/t${this.links_.length}`,
      created_by: 'alice',
      created_at: 1000,
      expires_at: expires === null ? null : 1000 + expires,
      revoked_at: null,
      active: true
    };
    this.links_ = [...this.links_, link];
    return link;
  }
  async setLinkRole(path: string, id: string, role: string) {
    this.calls.push(`link-role ${id} ${role}`);
    this.links_ = this.links_.map(l => (l.id === id ? { ...l, role } : l));
    return this.links_.find(l => l.id === id)!;
  }
  async revokeLink(path: string, id: string) {
    this.calls.push(`revoke-link ${id}`);
    this.links_ = this.links_.map(l => (l.id === id ? { ...l, active: false } : l));
  }
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

const q = (panel: SharePanel, selector: string) =>
  panel.node.querySelector(selector) as HTMLElement;
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
    expect(api.calls).toContain('link course/w1.ipynb viewer 86400');
    expect(copied).toEqual(['https://hub.example/base/collab/join/t0']);
    const item = q(panel, 'li[data-link-id="l0"]');
    expect(item.textContent).toContain('expires in 24 h');
    expect((item.querySelector('button') as HTMLElement).dataset.url).toBe(
      'https://hub.example/base/collab/join/t0'
    );

    const role = item.querySelector('select') as HTMLSelectElement;
    role.value = 'editor';
    role.dispatchEvent(new Event('change'));
    await panel.ready;
    expect(api.calls).toContain('link-role l0 editor');

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

  it('describes expiries in words', () => {
    expect(describeExpiry(null, 0)).toBe('no expiry');
    expect(describeExpiry(600, 0)).toBe('expires in 10 min');
    expect(describeExpiry(7200, 0)).toBe('expires in 2 h');
    expect(describeExpiry(7 * 86400, 0)).toBe('expires in 7 days');
  });
});
