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
  devTools: true,
} as const;

/** Links the UI may open in the system browser: https only, to these hosts. */
export const EXTERNAL_LINK_HOSTS: readonly string[] = ['github.com', 'bitcoin.org', 'mempool.space'];

export function isAllowedExternalUrl(raw: string): boolean {
  const url = URL.parse(raw);
  return url !== null && url.protocol === 'https:' && url.username === '' && url.password === '' && EXTERNAL_LINK_HOSTS.includes(url.hostname);
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
