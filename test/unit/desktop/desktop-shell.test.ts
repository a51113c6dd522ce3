import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SessionSnapshot, type Contact, type Group } from '../../../preload/contract.ts';
import type { DesktopNotice, DesktopPort, TrayMenuItem } from '../../../main/desktop/desktop-port.ts';
import { APP_ID, DECLINED_WHILE_PAUSED, DesktopShell } from '../../../main/desktop/desktop-shell.ts';
import { autostartEntry, isAutostartEnabled, setAutostart } from '../../../main/desktop/linux-autostart.ts';

const ALICE = '02' + 'a1'.repeat(32);
const ME = '03' + 'b2'.repeat(32);
const MALLORY = '02' + 'c3'.repeat(32);

/** A request as the coordinator reports it, checked against the contract's own schema. */
function request(over: Partial<SessionSnapshot> = {}): SessionSnapshot {
  return SessionSnapshot.parse({
    sessionId: 'ab'.repeat(32),
    version: 1,
    phase: 'AWAITING_APPROVAL',
    attempt: 0,
    createdAt: 1,
    expiresAt: 2,
    updatedAt: 1,
    phaseSince: 1,
    creator: ALICE,
    isCreator: false,
    signers: [
      { index: 0, publicKey: ALICE, isLocal: false, approved: true, nonceReceived: false, partialSignatureReceived: false },
      { index: 1, publicKey: ME, isLocal: true, approved: false, nonceReceived: false, partialSignatureReceived: false },
    ],
    messages: [],
    payloadKind: 'message',
    description: 'Pay the rent',
    tweak: 'taproot',
    signingKey: 'dd'.repeat(32),
    signatures: [],
    failure: null,
    awaitingLocalApproval: true,
    interrupted: false,
    resumable: false,
    ...over,
  });
}

const contacts: Contact[] = [{ publicKey: ALICE, name: 'Alice', addedAt: 1 }];
const groups = [{ name: 'Treasury', publicKeys: [ME, ALICE] }] as unknown as Group[];

class FakeDesktop implements DesktopPort {
  platform: NodeJS.Platform = 'linux';
  appUserModelId: string | undefined;
  visible = true;
  shownViews: (string | undefined)[] = [];
  tray: { tooltip: string; items: TrayMenuItem[]; onSelect: (id: TrayMenuItem['id']) => void } | undefined;
  notices: DesktopNotice[] = [];
  openAtLogin = false;
  quits = 0;
  setAppUserModelId(id: string) {
    this.appUserModelId = id;
  }
  showWindow(view?: string) {
    this.visible = true;
    this.shownViews.push(view);
  }
  hideWindow() {
    this.visible = false;
  }
  setTray(tooltip: string, items: TrayMenuItem[], onSelect: (id: TrayMenuItem['id']) => void) {
    this.tray = { tooltip, items, onSelect };
  }
  notify(notice: DesktopNotice) {
    this.notices.push(notice);
  }
  getOpenAtLogin() {
    return this.openAtLogin;
  }
  setOpenAtLogin(open: boolean) {
    this.openAtLogin = open;
  }
  quit() {
    this.quits++;
  }
  item(id: TrayMenuItem['id']) {
    return this.tray!.items.find((i) => i.id === id)!;
  }
}

function setup(maxAnnounced?: number) {
  const port = new FakeDesktop();
  const declined: { sessionId: string; reason: string }[] = [];
  const errors: unknown[] = [];
  const shell = new DesktopShell({
    port,
    appId: APP_ID,
    contacts: async () => contacts,
    groups: async () => groups,
    decline: async (sessionId, reason) => {
      declined.push({ sessionId, reason });
    },
    onError: (e) => errors.push(e),
    maxAnnounced,
  });
  shell.start();
  return { port, shell, declined, errors };
}

describe('desktop shell: always reachable', () => {
  it('keeps the node running when the window is closed, says so once, and lets Quit close it', () => {
    const { port, shell } = setup();
    expect(shell.onWindowClose()).toBe(true);
    expect(port.visible).toBe(false);
    expect(shell.onWindowClose()).toBe(true);
    expect(port.notices.map((n) => n.title)).toEqual(['Cosigner is still running']);
    port.notices[0]!.onClick();
    expect(port.visible).toBe(true);
    port.tray!.onSelect('quit');
    expect(port.quits).toBe(1);
    expect(shell.onWindowClose()).toBe(false);
  });

  it('lets the window close when the app quits some other way (log-out, app menu)', () => {
    const { shell } = setup();
    shell.onBeforeQuit();
    expect(shell.onWindowClose()).toBe(false);
  });

  it('offers open, pause signing, start at login and quit in the tray', () => {
    const { port } = setup();
    expect(port.tray!.items.map((i) => i.id)).toEqual(['open', 'pause', 'login', 'quit']);
    port.hideWindow();
    port.tray!.onSelect('open');
    expect(port.visible).toBe(true);
    expect(port.item('login').checked).toBe(false);
    port.tray!.onSelect('login');
    expect(port.openAtLogin).toBe(true);
    expect(port.item('login').checked).toBe(true);
    port.tray!.onSelect('login');
    expect(port.openAtLogin).toBe(false);
  });

  it('keeps the tray check box in step when Settings turns start at login on or off', () => {
    const { port, shell } = setup();
    shell.setOpenAtLogin(true);
    expect(port.openAtLogin).toBe(true);
    expect(port.item('login').checked).toBe(true);
    shell.setOpenAtLogin(false);
    expect(port.item('login').checked).toBe(false);
  });

  it('sets the Windows AppUserModelID to the installer appId, and only on Windows', () => {
    expect(setup().port.appUserModelId).toBeUndefined();
    const port = new FakeDesktop();
    port.platform = 'win32';
    new DesktopShell({
      port,
      appId: APP_ID,
      contacts: async () => [],
      groups: async () => [],
      decline: async () => {},
      onError: () => {},
    }).start();
    expect(port.appUserModelId).toBe('org.cosigner.desktop');
  });

  it('names the verified co-signer and the group, and opens the review when clicked', async () => {
    const { port, shell } = setup();
    await shell.onSession(request());
    expect(port.notices).toHaveLength(1);
    expect(port.notices[0]!.title).toBe('Signing request from Alice');
    expect(port.notices[0]!.body).toBe('For the group “Treasury”: Pay the rent');
    port.hideWindow();
    port.notices[0]!.onClick();
    expect(port.visible).toBe(true);
    expect(port.shownViews.at(-1)).toBe(`session/${'ab'.repeat(32)}`);
  });

  it('never shows a name the request chose: a sender not in the contacts is unknown', async () => {
    const { port, shell } = setup();
    await shell.onSession(request({ creator: MALLORY, description: 'From Alice, urgent\u202E' }));
    expect(port.notices[0]!.title).toBe(`Signing request from an unknown co-signer (${MALLORY.slice(0, 16)}…)`);
    expect(port.notices[0]!.body).not.toContain('\u202E');
  });

  it('announces a request once, and not its own requests or ones already approved', async () => {
    const { port, shell } = setup();
    await shell.onSession(request());
    await shell.onSession(request({ version: 2 }));
    await shell.onSession(request({ sessionId: 'cd'.repeat(32), isCreator: true }));
    await shell.onSession(request({ sessionId: 'ef'.repeat(32), phase: 'NONCE_EXCHANGE' }));
    await shell.onSession(request({ sessionId: '12'.repeat(32), awaitingLocalApproval: false }));
    expect(port.notices).toHaveLength(1);
  });

  it('remembers a bounded number of announced sessions', async () => {
    const { port, shell } = setup(2);
    const ids = ['01', '02', '03'].map((b) => b.repeat(32));
    for (const sessionId of ids) await shell.onSession(request({ sessionId }));
    await shell.onSession(request({ sessionId: ids[0]! }));
    expect(port.notices).toHaveLength(4);
    await shell.onSession(request({ sessionId: ids[2]! }));
    expect(port.notices).toHaveLength(4);
  });

  it('declines new requests at once while signing is paused, and shows it in the tray', async () => {
    const { port, shell, declined } = setup();
    port.tray!.onSelect('pause');
    expect(shell.paused).toBe(true);
    expect(port.item('pause').checked).toBe(true);
    expect(port.tray!.tooltip).toMatch(/paused/);
    await shell.onSession(request());
    expect(declined).toEqual([{ sessionId: 'ab'.repeat(32), reason: DECLINED_WHILE_PAUSED }]);
    expect(port.notices).toEqual([]);
    port.tray!.onSelect('pause');
    await shell.onSession(request({ sessionId: 'cd'.repeat(32) }));
    expect(port.notices).toHaveLength(1);
  });
});

describe('start at login on Linux (XDG autostart)', () => {
  it('writes and removes the autostart entry, starting hidden, with the path quoted', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'cosigner-autostart-'));
    try {
      expect(isAutostartEnabled(home)).toBe(false);
      setAutostart({ configHome: home, executable: '/opt/My "Apps"/cosigner', name: 'Cosigner' }, true);
      expect(isAutostartEnabled(home)).toBe(true);
      const entry = readFileSync(path.join(home, 'autostart', 'cosigner.desktop'), 'utf8');
      expect(entry).toContain('Exec="/opt/My \\"Apps\\"/cosigner" --hidden');
      setAutostart({ configHome: home, executable: '/x', name: 'Cosigner' }, false);
      expect(isAutostartEnabled(home)).toBe(false);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    expect(autostartEntry('/a/$b', 'C')).toContain('Exec="/a/\\$b" --hidden');
  });

  it('a config directory it cannot write is STORAGE_FAILED, naming the file', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'cosigner-autostart-'));
    try {
      // A file where the autostart directory should be: mkdir fails whoever runs the test (root too).
      writeFileSync(path.join(home, 'autostart'), 'not a directory');
      expect(() => setAutostart({ configHome: home, executable: '/x', name: 'Cosigner' }, true)).toThrow(
        expect.objectContaining({ code: 'STORAGE_FAILED', message: expect.stringContaining('cosigner.desktop') }),
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
