import { createBridge } from '../../../preload/client.ts';
import type { CosignerBridge } from '../../../preload/contract.ts';
import { electronCarrier } from './electron.ts';
import { takeToken, type TokenPlace } from './token.ts';
import { websocketCarrier, type ConnectionState } from './websocket.ts';

/** Chooses the carrier at start-up: the Electron preload when present, else the daemon's WebSocket. */
export function connectBridge(onState?: (state: ConnectionState) => void): CosignerBridge {
  const electron = electronCarrier();
  if (electron) {
    onState?.('open');
    return createBridge(electron);
  }
  return createBridge(websocketCarrier(takeToken(windowTokenPlace()), onState));
}

/** This page's place for the token, with storage left out where the browser refuses it (then only the URL works). */
function windowTokenPlace(): TokenPlace {
  let storage: Storage | undefined;
  try {
    storage = window.sessionStorage;
  } catch {
    storage = undefined;
  }
  return { location: window.location, history: window.history, storage };
}
