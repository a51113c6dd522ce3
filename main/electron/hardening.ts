/**
 * The security settings of the Electron shell, as plain data and pure functions so that they are
 * tested without the Electron binary (test/unit/electron) and checked again inside the running app
 * (test/e2e/electron). Nothing here imports electron.
 */
import { CONTENT_SECURITY_POLICY } from '../daemon/static-files.ts';

/** The UI is served from this privileged custom scheme, never from file:// (Electron security checklist). */
export const APP_SCHEME = 'cosigner';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

export { CONTENT_SECURITY_POLICY };

export const HARDENED_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  spellcheck: false,
  safeDialogs: true,
  disableDialogs: false,
  enableWebSQL: false,
} as const;

/**
 * The window's web preferences. DevTools only in development: in a packaged build they would let
 * anyone at the unlocked desktop (or a social engineer on the phone) run script in the page that
 * holds the signing controls.
 */
export function webPreferencesFor(isPackaged: boolean, preload: string) {
  return { ...HARDENED_WEB_PREFERENCES, devTools: !isPackaged, preload };
}

/** The menu roles used here: a subset of Electron's MenuItemConstructorOptions['role']. */
export type MenuRole = 'appMenu' | 'fileMenu' | 'editMenu' | 'windowMenu' | 'resetZoom' | 'zoomIn' | 'zoomOut' | 'togglefullscreen';
export interface MenuSpec {
  role?: MenuRole;
  label?: string;
  type?: 'separator';
  submenu?: MenuSpec[];
}

/**
 * The packaged app's menu, or undefined for Electron's default (development). The default View menu
 * carries Reload and Toggle Developer Tools with their shortcuts (Ctrl+Shift+I, F5); the packaged
 * menu keeps what people use (the Edit menu's copy and paste shortcuts, which macOS needs, zoom,
 * full screen) and leaves those out.
 */
export function appMenuTemplate(isPackaged: boolean, platform: string): MenuSpec[] | undefined {
  if (!isPackaged) return undefined;
  return [
    ...(platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    { role: 'fileMenu' },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { type: 'separator' }, { role: 'togglefullscreen' }],
    },
    { role: 'windowMenu' },
  ];
}

/**
 * Whether the session grants `permission` to a page of `requestingOrigin` (Electron's permission
 * request and check handlers). Only the Copy buttons' clipboard write, and only to the app's own
 * origin: camera, notifications from pages, geolocation and the rest stay refused, as does reading
 * the clipboard. `requestingOrigin` may be an origin or a full URL.
 */
export function isPermissionGranted(permission: string, requestingOrigin: string, appOrigin: string = APP_ORIGIN): boolean {
  if (permission !== 'clipboard-sanitized-write') return false;
  const requesting = URL.parse(requestingOrigin);
  const app = URL.parse(appOrigin);
  // Non-special schemes such as cosigner: have an opaque URL.origin ("null"): compare scheme and host.
  return (
    requesting !== null &&
    app !== null &&
    requesting.username === '' &&
    requesting.password === '' &&
    requesting.protocol === app.protocol &&
    requesting.host === app.host
  );
}

/** Links the UI may open in the system browser: https only, to these hosts. */
export const EXTERNAL_LINK_HOSTS: readonly string[] = ['github.com', 'bitcoin.org', 'mempool.space'];

export function isAllowedExternalUrl(raw: string): boolean {
  const url = URL.parse(raw);
  return (
    url !== null && url.protocol === 'https:' && url.username === '' && url.password === '' && EXTERNAL_LINK_HOSTS.includes(url.hostname)
  );
}

/** IPC is answered only for the app's own top-level page. */
export function isTrustedSender(frame: { url: string; parent: unknown } | null | undefined): boolean {
  if (!frame || frame.parent !== null) return false;
  const url = URL.parse(frame.url);
  return url !== null && url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST;
}

/** Maps a request path of the app scheme to a file below the renderer build, or undefined. */
export function appPathToRelativeFile(raw: string): string | undefined {
  const url = URL.parse(raw);
  if (url === null || url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return undefined;
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return undefined; // a malformed percent-escape
  }
  const segments = path.split('/').filter((s) => s.length > 0);
  if (segments.some((s) => s === '..' || s === '.' || s.includes('\\'))) return undefined;
  return segments.length === 0 ? 'index.html' : segments.join('/');
}
