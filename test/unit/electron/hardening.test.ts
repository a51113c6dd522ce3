import { describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  APP_ORIGIN,
  CONTENT_SECURITY_POLICY,
  HARDENED_WEB_PREFERENCES,
  appMenuTemplate,
  appPathToRelativeFile,
  isAllowedExternalUrl,
  isPermissionGranted,
  isTrustedSender,
  webPreferencesFor,
  type MenuSpec,
} from '../../../main/electron/hardening.ts';

const roles = (menu: MenuSpec[]): string[] => menu.flatMap((item) => [item.role ?? '', ...roles(item.submenu ?? [])]).filter(Boolean);

describe('Electron hardening', () => {
  it('turns off Node in the renderer, its workers and subframes, and isolates and sandboxes it', () => {
    expect(HARDENED_WEB_PREFERENCES).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('has a CSP that allows no inline script, no eval and no remote origin', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
  });

  it.each([
    ['https://github.com/cosigner', true],
    ['https://mempool.space/tx/00', true],
    ['http://github.com/', false],
    ['https://evil.example/', false],
    ['https://github.com.evil.example/', false],
    ['https://user:pw@github.com/', false],
    ['file:///etc/passwd', false],
    ['javascript:alert(1)', false],
    ['not a url', false],
  ])('external link %s allowed: %s', (url, allowed) => {
    expect(isAllowedExternalUrl(url)).toBe(allowed);
  });

  it('answers IPC only from the app page in the top frame', () => {
    expect(isTrustedSender({ url: APP_ENTRY_URL, parent: null })).toBe(true);
    expect(isTrustedSender({ url: APP_ENTRY_URL, parent: {} })).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', parent: null })).toBe(false);
    expect(isTrustedSender({ url: 'file:///index.html', parent: null })).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
    expect(isTrustedSender({ url: 'not a url', parent: null })).toBe(false);
  });

  it('maps app URLs to files below the renderer build and nothing outside it', () => {
    expect(appPathToRelativeFile('cosigner://app/')).toBe('index.html');
    expect(appPathToRelativeFile('cosigner://app/assets/index.js')).toBe('assets/index.js');
    // URL parsing resolves dot segments first, so an escape attempt lands inside the root.
    expect(appPathToRelativeFile('cosigner://app/%2e%2e/%2e%2e/secret')).toBe('secret');
    expect(appPathToRelativeFile('cosigner://app/a%5c..%5cb')).toBeUndefined();
    expect(appPathToRelativeFile('cosigner://other/index.html')).toBeUndefined();
    expect(appPathToRelativeFile('cosigner://app/%E0%A4%A')).toBeUndefined();
    expect(appPathToRelativeFile('https://app/index.html')).toBeUndefined();
    expect(appPathToRelativeFile('not a url')).toBeUndefined();
  });

  it('turns DevTools off in a packaged build and on in development, keeping every hardening setting', () => {
    const packaged = webPreferencesFor(true, '/app/preload.cjs');
    expect(packaged.devTools).toBe(false);
    expect(packaged).toMatchObject({ ...HARDENED_WEB_PREFERENCES, preload: '/app/preload.cjs' });
    expect(webPreferencesFor(false, '/dev/preload.cjs').devTools).toBe(true);
  });

  it.each(['linux', 'win32', 'darwin'])(
    'gives a packaged build on %s a menu without DevTools or reload, but with the Edit menu',
    (platform) => {
      const menu = appMenuTemplate(true, platform)!;
      expect(roles(menu)).not.toEqual(expect.arrayContaining(['toggleDevTools']));
      expect(JSON.stringify(menu)).not.toMatch(/devtools|reload|viewMenu/i);
      expect(roles(menu)).toContain('editMenu');
      expect(appMenuTemplate(false, platform)).toBeUndefined();
    },
  );

  it.each([
    ['clipboard-sanitized-write', APP_ORIGIN, true],
    ['clipboard-sanitized-write', APP_ENTRY_URL, true],
    ['clipboard-sanitized-write', `${APP_ORIGIN}/`, true],
    ['clipboard-sanitized-write', 'cosigner://other', false],
    ['clipboard-sanitized-write', 'cosigner://user@app', false],
    ['clipboard-sanitized-write', 'https://app', false],
    ['clipboard-sanitized-write', 'file:///index.html', false],
    ['clipboard-sanitized-write', 'null', false],
    ['clipboard-sanitized-write', '', false],
    ['clipboard-read', APP_ORIGIN, false],
    ['notifications', APP_ORIGIN, false],
    ['media', APP_ORIGIN, false],
    ['openExternal', APP_ORIGIN, false],
  ])('permission %s for %s granted: %s', (permission, origin, granted) => {
    expect(isPermissionGranted(permission, origin)).toBe(granted);
  });

  it('grants the clipboard write to the app origin it is given, not to a hard-wired one', () => {
    expect(isPermissionGranted('clipboard-sanitized-write', 'app://local/index.html', 'app://local')).toBe(true);
    expect(isPermissionGranted('clipboard-sanitized-write', APP_ORIGIN, 'app://local')).toBe(false);
  });
});
