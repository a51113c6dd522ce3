/**
 * The headless daemon's token, read once from the URL it printed (`#token=...`) and then taken out
 * of the address, where it would stay in the browser's history, its synced tabs and anything that
 * shows or shares the address bar. It is kept in this tab's sessionStorage so that a reload or a
 * reconnect still has it; another tab needs the printed URL again. Pure over `TokenPlace` (the
 * page passes its own, bridge/index.ts) so that it is tested without a browser.
 */
export const TOKEN_STORAGE_KEY = 'cosigner.token';

/** What this needs of `window`, so that it runs in tests without a browser. */
export interface TokenPlace {
  location: { pathname: string; search: string; hash: string };
  history: { state: unknown; replaceState(data: unknown, unused: string, url: string): void };
  storage: { getItem(key: string): string | null; setItem(key: string, value: string): void } | undefined;
}

export function takeToken(place: TokenPlace): string {
  const params = new URLSearchParams(place.location.hash.replace(/^#/, ''));
  const fromUrl = params.get('token');
  if (fromUrl === null) return read(place.storage) ?? '';
  params.delete('token');
  const rest = params.toString();
  place.history.replaceState(place.history.state, '', `${place.location.pathname}${place.location.search}${rest ? `#${rest}` : ''}`);
  // A token in the address wins over a stored one: the daemon may have restarted with a new one.
  if (fromUrl) write(place.storage, fromUrl);
  return fromUrl;
}

function read(storage: TokenPlace['storage']): string | null {
  try {
    return storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
  } catch {
    return null;
  }
}

function write(storage: TokenPlace['storage'], token: string): void {
  try {
    storage?.setItem(TOKEN_STORAGE_KEY, token);
  } catch {
    // storage full or refused: this page still has the token until it is reloaded
  }
}
