import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, test } from 'vitest';
import type { Contact, KeyStatus, NodeStatus, SignerCardView } from '../../../preload/contract.ts';
import { AppStores } from '../../../renderer/src/stores/app-stores.svelte.ts';
import { Synced } from '../../../renderer/src/stores/synced.svelte.ts';
import { deferred, FakeBackEnd, settle } from './fake-bridge.ts';
import { NEEDS_SVELTE, runesCompiled } from './runes-probe.svelte.ts';
import { gate } from '../../support/prerequisites.ts';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/session-stream.json', import.meta.url), 'utf8')) as {
  keys: Record<'alice' | 'bob' | 'carol' | 'dave', string>;
};
const { alice, bob, carol, dave } = fixture.keys;
const needs = gate({ 'svelte-runes': runesCompiled() ? undefined : NEEDS_SVELTE });

beforeEach((ctx) => {
  if (needs.skip !== undefined) ctx.skip(needs.skip);
  needs.assert();
});

const node = (connections: number): NodeStatus => ({
  running: true,
  peerId: '12D3KooWfixture',
  listenAddresses: ['/ip4/127.0.0.1/tcp/4001'],
  connections,
  dhtRoutingTableSize: 4,
  mdnsEnabled: true,
  rejectedFrames: {},
  connectedPeers: connections,
  dhtMode: 'client',
  dhtStore: { records: 0, bytes: 0, rollbacksRefused: 0 },
  lanPeers: [],
  knownSigners: 2,
  bannedPeers: 0,
  bansIssued: 0,
  transport: {
    framesDelivered: 0,
    inboxAnnouncementsDelivered: 0,
    inboxRecordsPublished: 0,
    inboxPublishFailures: 0,
    pendingDeliveries: 0,
    failedAttempts: 0,
    watchedCosigners: 0,
    nacksReceived: { 'rate-limited': 0, 'not-ready': 0 },
  },
  bans: [],
  inboundHandshakes: { pending: 0, refusedPerAddress: 0 },
  failures: {},
});
const keyStatus = (withKey: boolean): KeyStatus => ({
  backend: 'keychain',
  key: withKey ? { publicKey: alice, fingerprint: '0a1b2c3d' } : null,
  problem: null,
});
const card = (publicKey: string, displayName: string): SignerCardView => ({
  publicKey,
  peerId: `12D3KooW${displayName}`,
  displayName,
  addresses: [],
  issuedAt: 1,
  source: 'lan',
});

describe('Synced: a value with an event and no version', () => {
  test('an event that arrives while the load is in flight wins over the load', async () => {
    const backEnd = new FakeBackEnd();
    const reply = deferred<NodeStatus>();
    backEnd.on('node.status', () => reply.promise);
    const status = new Synced<NodeStatus>(
      (set) => backEnd.bridge.subscribe('node', set),
      () => backEnd.bridge.call('node.status', {}),
    );
    status.start();
    expect(backEnd.log).toEqual(['subscribe:node', 'call:node.status']);

    backEnd.emit('node', node(5));
    reply.resolve(node(2));
    await settle();
    expect(status.value?.connections).toBe(5);

    // A later load with no event meanwhile is taken.
    backEnd.on('node.status', () => node(7));
    await status.reload();
    expect(status.value?.connections).toBe(7);
  });

  test('a failed load keeps the last value and reports the error until the next success', async () => {
    const backEnd = new FakeBackEnd();
    backEnd.on('node.status', () => node(1));
    const status = new Synced<NodeStatus>(
      (set) => backEnd.bridge.subscribe('node', set),
      () => backEnd.bridge.call('node.status', {}),
    );
    await status.reload();
    backEnd.on('node.status', () => {
      throw { code: 'NOT_RUNNING', message: 'down' };
    });
    await status.reload();
    expect(status.value?.connections).toBe(1);
    expect((status.error as { code: string }).code).toBe('NOT_RUNNING');
    backEnd.emit('node', node(3));
    await status.reload().catch(() => {});
    backEnd.on('node.status', () => node(4));
    await status.reload();
    expect(status.error).toBeNull();
  });
});

describe('AppStores', () => {
  function backEndWithEverything() {
    const backEnd = new FakeBackEnd();
    const contacts: Contact[] = [{ publicKey: bob, name: 'Bob', addedAt: 1 }];
    backEnd
      .on('keys.status', () => keyStatus(true))
      .on('sessions.list', () => [])
      .on('node.status', () => node(1))
      .on('peers.lan', () => [card(dave, 'Dave'), card(bob, 'Bobby')])
      .on('health.get', () => ({
        node: node(1),
        coordinator: {
          running: true,
          sessionsByPhase: {},
          oldestSessionAgeMs: null,
          pendingApprovals: 0,
          lastCleanupAt: null,
          rejectedMessages: {},
          orphanedFrames: 0,
          trackedPeers: 0,
          sendFailures: 0,
          storageFailures: 0,
          corruptRecords: 0,
          listenerErrors: 0,
        },
        invalidEvents: 0,
        failures: {},
      }))
      .on('contacts.list', () => contacts)
      .on('groups.list', () => [])
      .on('settings.get', () => ({
        displayName: 'Alice',
        network: 'regtest',
        listenAddresses: [],
        bootstrapPeers: [],
        mdns: true,
        sessionTimeoutSeconds: 3600,
        stuckSessionTimeoutSeconds: 300,
        allowNonDefaultSighash: false,
      }))
      .on('app.info', () => ({ version: '0.1.0', mode: 'headless', dataDir: '/tmp/x' }))
      .on('updates.status', () => ({ step: 'off', why: 'The headless mode does not update itself.' }))
      .on('startAtLogin.get', () => ({ available: false, why: 'Started by its service manager.' }))
      .on('contacts.save', (args) => {
        const { publicKey, name } = args as { publicKey: string; name: string };
        contacts.push({ publicKey, name, addedAt: 2 });
        return contacts.at(-1);
      });
    return { backEnd, contacts };
  }

  test('every store subscribes to its events before its first load', () => {
    const { backEnd } = backEndWithEverything();
    new AppStores(backEnd.bridge).start();
    for (const [event, request] of [
      ['keys', 'keys.status'],
      ['session', 'sessions.list'],
      ['node', 'node.status'],
      ['peers.lan', 'peers.lan'],
      ['updates', 'updates.status'],
    ] as const) {
      const subscribed = backEnd.log.indexOf(`subscribe:${event}`);
      expect(subscribed, event).toBeGreaterThanOrEqual(0);
      expect(backEnd.log.indexOf(`call:${request}`), request).toBeGreaterThan(subscribed);
    }
  });

  test('names a key: you, a contact, or unknown (with the unverified LAN name)', async () => {
    const { backEnd } = backEndWithEverything();
    const stores = new AppStores(backEnd.bridge);
    stores.start();
    await settle();
    expect(stores.identify(alice)).toEqual({ kind: 'you' });
    // A contact's saved name wins over the name the peer announces for itself.
    expect(stores.identify(bob)).toEqual({ kind: 'contact', name: 'Bob' });
    expect(stores.identify(dave)).toEqual({ kind: 'unknown', lanName: 'Dave' });
    expect(stores.identify(carol)).toEqual({ kind: 'unknown', lanName: undefined });
  });

  test('a saved contact is read back from the back end', async () => {
    const { backEnd } = backEndWithEverything();
    const stores = new AppStores(backEnd.bridge);
    stores.start();
    await settle();
    await stores.book.saveContact(dave, 'Dave');
    expect(backEnd.log.slice(-3)).toEqual(['call:contacts.save', 'call:contacts.list', 'call:groups.list']);
    expect(stores.book.contacts.map((c) => c.name)).toEqual(['Bob', 'Dave']);
    expect(stores.identify(dave)).toEqual({ kind: 'contact', name: 'Dave' });
  });

  test('the key status follows its event: first run until a key is stored', async () => {
    const { backEnd } = backEndWithEverything();
    backEnd.on('keys.status', () => keyStatus(false));
    const stores = new AppStores(backEnd.bridge);
    stores.start();
    await settle();
    expect(stores.keys.status.value?.key).toBeNull();
    expect(stores.keys.publicKey).toBeUndefined();
    backEnd.emit('keys', keyStatus(true));
    expect(stores.keys.publicKey).toBe(alice);
  });

  test('confirming a backup sends the phrase as typed and reads the key status again', async () => {
    const { backEnd } = backEndWithEverything();
    const phrase = Array.from({ length: 24 }, (_, i) => `w${i}`).join(' ');
    let sent: unknown;
    backEnd.on('keys.confirmBackup', (args) => {
      sent = args;
      return { publicKey: alice, fingerprint: '0a1b2c3d' };
    });
    const stores = new AppStores(backEnd.bridge);
    await stores.keys.confirmBackup('backup-1', phrase);
    expect(sent).toEqual({ backupId: 'backup-1', mnemonic: phrase });
    expect(backEnd.log).toEqual(['call:keys.confirmBackup', 'call:keys.status']);
    expect(stores.keys.publicKey).toBe(alice);
  });

  test('leaving the backup flow drops the unconfirmed key on the back end', async () => {
    const { backEnd } = backEndWithEverything();
    backEnd.on('keys.cancelCreate', () => ({ ok: true }));
    const stores = new AppStores(backEnd.bridge);
    await stores.keys.cancelCreate();
    expect(backEnd.log).toEqual(['call:keys.cancelCreate']);
  });

  test('reload asks every store again (after a reconnection)', async () => {
    const { backEnd } = backEndWithEverything();
    const stores = new AppStores(backEnd.bridge);
    await stores.reload();
    for (const request of [
      'keys.status',
      'sessions.list',
      'node.status',
      'peers.lan',
      'health.get',
      'contacts.list',
      'groups.list',
      'settings.get',
      'app.info',
      'updates.status',
      'startAtLogin.get',
    ]) {
      expect(backEnd.log).toContain(`call:${request}`);
    }
  });

  test('stop unsubscribes from every event', () => {
    const { backEnd } = backEndWithEverything();
    const stop = new AppStores(backEnd.bridge).start();
    stop();
    for (const event of ['keys', 'session', 'node', 'peers.lan', 'updates'] as const) expect(backEnd.listenerCount(event)).toBe(0);
  });
});

describe('DesktopStore: the update check and start at login', () => {
  test('follows the updates event between the steps the user takes', async () => {
    const backEnd = new FakeBackEnd()
      .on('updates.status', () => ({ step: 'idle' }))
      .on('startAtLogin.get', () => ({ available: true, enabled: false }))
      .on('updates.check', () => {
        backEnd.emit('updates', { step: 'checking' });
        return { step: 'available', version: '0.2.0' };
      })
      .on('startAtLogin.set', (args) => ({ available: true, enabled: (args as { enabled: boolean }).enabled }));
    const stores = new AppStores(backEnd.bridge);
    stores.desktop.start();
    await settle();
    expect(stores.desktop.updates.value).toEqual({ step: 'idle' });
    await stores.desktop.check();
    expect(stores.desktop.updates.value).toEqual({ step: 'available', version: '0.2.0' });
    backEnd.emit('updates', { step: 'downloading', version: '0.2.0' });
    expect(stores.desktop.updates.value?.step).toBe('downloading');
    await stores.desktop.setStartAtLogin(true);
    expect(stores.desktop.startAtLogin).toEqual({ available: true, enabled: true });
  });
});
