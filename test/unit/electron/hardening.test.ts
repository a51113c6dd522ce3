import { describe, expect, it } from 'vitest';
import {
  APP_ENTRY_URL,
  CONTENT_SECURITY_POLICY,
  HARDENED_WEB_PREFERENCES,
  appPathToRelativeFile,
  isAllowedExternalUrl,
  isTrustedSender,
} from '../../../main/electron/hardening.ts';

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
});
