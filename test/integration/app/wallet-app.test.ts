/**
 * The wallet.* requests through the app as it is built (main/app.ts) and the contract's dispatcher:
 * chain settings saved and applied at once, a refresh against a local Esplora server, the `wallet`
 * event, and the state read back from the data directory by the next start, offline.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requests, WalletStatus, type Group, type Settings } from '../../../preload/contract.ts';
import { startServices, type Services } from '../../../main/app.ts';
import { createDispatcher, type Dispatcher } from '../../../main/contract-dispatch.ts';
import { GroupKeysCache } from '../../../main/session/psbt-session.ts';
import { startEsploraServer, type EsploraServer } from '../../support/esplora-server.ts';
import { cosigners } from '../../support/psbt-fixtures.ts';

describe('wallet.* through the app', () => {
  let dataDir: string;
  let server: EsploraServer;
  const internalErrors: unknown[] = [];
  const publicKeys = cosigners(2, 'wallet-app').map((c) => bytesToHex(c.publicKey));
  const receive0 = new GroupKeysCache().of(publicKeys).address([0, 0], 'regtest');

  async function start(): Promise<{ services: Services; call: Dispatcher }> {
    const services = await startServices({
      mode: 'headless',
      dataDir,
      keystore: { kind: 'file', passphrase: 'wallet app test' },
      overrides: { network: 'regtest', mdns: false },
    });
    return { services, call: createDispatcher(requests, services.handlers, (_m, e) => internalErrors.push(e)) };
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'cosigner-wallet-'));
    server = await startEsploraServer();
  });
  afterAll(async () => {
    await server?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    expect(internalErrors).toEqual([]);
  });

  it('refreshes from the configured server, emits the wallet event, and the next start shows it offline', async () => {
    const { services, call } = await start();
    const group = (await call('groups.save', { name: 'two', publicKeys })) as Group;
    expect(((await call('wallet.refresh', { groupId: group.id })) as WalletStatus).lastError?.code).toBe('CHAIN_NOT_CONFIGURED');

    const settings = (await call('settings.get', {})) as Settings;
    await call('settings.set', { chainBackends: { ...settings.chainBackends, regtest: { esploraUrl: server.url, explorerUrl: null } } });
    server.chain.pay([{ address: receive0, value: 42_000 }]);
    server.chain.mine();
    const events: unknown[] = [];
    const off = services.subscribeEvents((event, payload) => event === 'wallet' && events.push(payload));
    const status = WalletStatus.parse(await call('wallet.refresh', { groupId: group.id }));
    off();
    expect(status.lastError).toBeNull();
    expect(status.state?.balance).toEqual({ confirmed: 42_000, unconfirmed: 0 });
    expect(status.state?.nextReceive.index).toBe(1);
    expect(events).toEqual([status]);
    await services.stop();

    await server.close();
    const again = await start();
    const offline = WalletStatus.parse(await again.call('wallet.status', { groupId: group.id }));
    expect(offline.state).toEqual(status.state);
    const failed = WalletStatus.parse(await again.call('wallet.refresh', { groupId: group.id }));
    expect(failed.lastError?.code).toBe('CHAIN_UNAVAILABLE');
    expect(failed.state).toEqual(status.state);
    await again.services.stop();
    server = await startEsploraServer();
  });

  it('refuses a chain server URL that is not a URL', async () => {
    const { services, call } = await start();
    const settings = (await call('settings.get', {})) as Settings;
    await expect(
      call('settings.set', { chainBackends: { ...settings.chainBackends, regtest: { esploraUrl: 'not a url', explorerUrl: null } } }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await services.stop();
  });

  it('refuses an explorer or server URL that is not http(s): a javascript: link would run in the UI', async () => {
    const { services, call } = await start();
    const settings = (await call('settings.get', {})) as Settings;
    for (const backend of [
      { esploraUrl: null, explorerUrl: 'javascript:alert(1)' },
      { esploraUrl: 'file:///etc/passwd', explorerUrl: null },
    ]) {
      await expect(call('settings.set', { chainBackends: { ...settings.chainBackends, regtest: backend } })).rejects.toMatchObject({
        code: 'INVALID_INPUT',
      });
    }
    await services.stop();
  });
});
