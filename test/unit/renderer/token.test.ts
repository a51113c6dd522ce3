import { describe, expect, test } from 'vitest';
import { TOKEN_STORAGE_KEY, takeToken, type TokenPlace } from '../../../renderer/src/bridge/token.ts';

function place(hash: string, stored: Record<string, string> = {}) {
  const storage = new Map(Object.entries(stored));
  const urls: string[] = [];
  const p: TokenPlace = {
    location: { pathname: '/', search: '', hash },
    history: { state: null, replaceState: (_data, _unused, url) => urls.push(url) },
    storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v) },
  };
  return { p, storage, urls };
}

describe('the headless token', () => {
  test('is taken out of the address once read, keeping the view, and kept in this tab for reloads', () => {
    const { p, storage, urls } = place('#token=abc-_123&view=cosigners');
    expect(takeToken(p)).toBe('abc-_123');
    expect(urls).toEqual(['/#view=cosigners']);
    expect(storage.get(TOKEN_STORAGE_KEY)).toBe('abc-_123');
  });

  test('leaves no empty fragment behind when the token was all of it', () => {
    const { p, urls } = place('#token=abc');
    takeToken(p);
    expect(urls).toEqual(['/']);
  });

  test('comes from the tab after a reload, when the address no longer has it', () => {
    const { p, urls } = place('#view=home', { [TOKEN_STORAGE_KEY]: 'abc' });
    expect(takeToken(p)).toBe('abc');
    expect(urls).toEqual([]);
  });

  test('in the address wins over the stored one (the daemon restarted with a new token)', () => {
    const { p, storage } = place('#token=new', { [TOKEN_STORAGE_KEY]: 'old' });
    expect(takeToken(p)).toBe('new');
    expect(storage.get(TOKEN_STORAGE_KEY)).toBe('new');
  });

  test('is empty when neither the address nor the tab has one, and works without storage', () => {
    expect(takeToken(place('').p)).toBe('');
    const { p } = place('#token=abc');
    expect(takeToken({ ...p, storage: undefined })).toBe('abc');
  });
});
