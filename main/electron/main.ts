/**
 * The Electron entry: a thin shell that starts the same services as the headless daemon and serves
 * the contract over IPC to one hardened, sandboxed window. Bundled by scripts/build-electron.ts.
 */
import { app, BrowserWindow, ipcMain, Menu, net, protocol, session, shell } from 'electron';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { requests, type SessionSnapshot } from '../../preload/contract.ts';
import { EVENT_CHANNEL, requestChannel, type IpcReply } from '../../preload/ipc.ts';
import { APP_ID, DesktopShell, START_HIDDEN_ARG } from '../desktop/desktop-shell.ts';
import { electronDesktopPort } from './desktop-adapter.ts';
import { electronUpdates } from './updater-adapter.ts';
import { startServices, type Services } from '../app.ts';
import { createDispatcher, toWireError } from '../contract-dispatch.ts';
import { CosignerError } from '../errors.ts';
import { defaultDataDir } from '../data-dir.ts';
import { keyFilePath, KeytarSecretBackend } from '../keys/index.ts';
import { SwitchableBackend } from '../keys/switchable-backend.ts';
import {
  APP_ENTRY_URL,
  APP_SCHEME,
  CONTENT_SECURITY_POLICY,
  appMenuTemplate,
  appPathToRelativeFile,
  isAllowedExternalUrl,
  isPermissionGranted,
  isTrustedSender,
  webPreferencesFor,
} from './hardening.ts';

const rendererDir = path.join(import.meta.dirname, '..', 'renderer');
const preloadPath = path.join(import.meta.dirname, 'preload.cjs');
const iconDir = path.join(import.meta.dirname, '..', 'icons');

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
app.enableSandbox();

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let window: BrowserWindow | undefined;
  let services: Services | undefined;
  let desktop: DesktopShell | undefined;
  let stopping = false;

  app.on('second-instance', () => desktop?.select('open'));
  app.on('activate', () => desktop?.select('open'));

  // Every web contents, including any the app never meant to create: no navigation away from the
  // app, no new windows, no <webview>; allow-listed https links go to the system browser.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!url.startsWith(APP_ENTRY_URL)) event.preventDefault();
    });
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (isAllowedExternalUrl(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });

  // A start that fails (keystore, data directory) is said on stderr and ends the app: a window-less
  // process left running would look like a co-signer that is online.
  void app
    .whenReady()
    .then(async () => {
      const menu = appMenuTemplate(app.isPackaged, process.platform);
      if (menu) Menu.setApplicationMenu(Menu.buildFromTemplate(menu));
      const ses = session.defaultSession;
      // Everything refused but the Copy buttons' clipboard write from the app's own top-level page.
      ses.setPermissionRequestHandler((_wc, permission, callback, details) =>
        callback(details.isMainFrame && isPermissionGranted(permission, details.requestingUrl)),
      );
      ses.setPermissionCheckHandler(
        (_wc, permission, requestingOrigin, details) => details.isMainFrame && isPermissionGranted(permission, requestingOrigin),
      );
      ses.setDevicePermissionHandler(() => false);
      protocol.handle(APP_SCHEME, async (req) => {
        const rel = appPathToRelativeFile(req.url);
        if (!rel) return new Response('not found', { status: 404 });
        const response = await net.fetch(pathToFileURL(path.join(rendererDir, rel)).toString());
        const headers = new Headers(response.headers);
        headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
        headers.set('X-Content-Type-Options', 'nosniff');
        return new Response(response.body, { status: response.status, headers });
      });

      const dataDir = process.env.COSIGNER_DATA_DIR ?? defaultDataDir(app.getPath('userData'));
      // A key file, once chosen, is the keystore (locked until its passphrase is typed in the app);
      // otherwise the OS keychain, with the key file offered on the first-run screen where it fails.
      const keystore = existsSync(keyFilePath(dataDir, 'default'))
        ? SwitchableBackend.lockedFile()
        : SwitchableBackend.keychain(new KeytarSecretBackend({}));
      const desktopPort = electronDesktopPort({ iconDir, window: () => ensureWindow() });
      services = await startServices({
        mode: 'electron',
        dataDir,
        keystore: { kind: 'switchable', backend: keystore },
        desktop: {
          // Installing quits for real: the window must close then, not hide in the tray.
          updates: electronUpdates({ onQuitting: () => desktop?.onBeforeQuit() }),
          startAtLogin: {
            get: () => desktopPort.getOpenAtLogin(),
            set: (open) => {
              if (!desktop) throw new CosignerError('NOT_RUNNING', 'the app is still starting');
              desktop.setOpenAtLogin(open);
            },
          },
        },
      });
      const dispatch = createDispatcher(requests, services.handlers, (method, error) => {
        console.error(`request ${method} failed:`, error);
      });
      for (const name of Object.keys(requests)) {
        ipcMain.handle(requestChannel(name), async (event, args: unknown): Promise<IpcReply> => {
          if (!isTrustedSender(event.senderFrame)) {
            return { ok: false, error: toWireError(new CosignerError('UNAUTHORIZED', 'IPC from an untrusted frame')) };
          }
          try {
            return { ok: true, result: await dispatch(name, args) };
          } catch (error) {
            return { ok: false, error: toWireError(error) };
          }
        });
      }

      const { handlers } = services;
      const ensureWindow = (): BrowserWindow => {
        if (window && !window.isDestroyed()) return window;
        const created = new BrowserWindow({
          width: 1100,
          height: 780,
          show: false,
          title: 'Cosigner',
          icon: path.join(iconDir, 'window.png'),
          webPreferences: webPreferencesFor(app.isPackaged, preloadPath),
        });
        created.on('close', (event) => {
          if (desktop?.onWindowClose()) event.preventDefault();
        });
        void created.loadURL(APP_ENTRY_URL);
        window = created;
        return created;
      };
      desktop = new DesktopShell({
        port: desktopPort,
        appId: APP_ID,
        contacts: () => handlers['contacts.list']({}),
        groups: () => handlers['groups.list']({}),
        decline: async (sessionId, reason) => {
          await handlers['sessions.decline']({ sessionId, reason });
        },
        onError: (error) => console.error('desktop:', error),
      });
      desktop.start();
      const shell = desktop;
      services.subscribeEvents((event, payload) => {
        window?.webContents.send(EVENT_CHANNEL, event, payload);
        if (event === 'session') shell.onSession(payload as SessionSnapshot).catch((error: unknown) => console.error('desktop:', error));
      });

      const first = ensureWindow();
      if (!process.argv.includes(START_HIDDEN_ARG)) first.once('ready-to-show', () => first.show());
    })
    .catch((error: unknown) => {
      console.error('cosigner: could not start', error);
      app.exit(1);
    });

  // Sessions are persisted and the node stopped before the process goes.
  app.on('before-quit', (event) => {
    desktop?.onBeforeQuit();
    if (stopping || !services) return;
    event.preventDefault();
    stopping = true;
    void services
      .stop()
      .catch((error: unknown) => console.error('cosigner: stopping failed', error))
      .finally(() => app.exit(0));
  });
  // Closing the window hides it (DesktopShell.onWindowClose): the node keeps running in the tray
  // until Quit. Without this handler Electron would quit when the last window goes.
  app.on('window-all-closed', () => {});
}
