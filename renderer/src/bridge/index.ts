import { createBridge } from '../../../preload/client.ts';
import type { CosignerBridge } from '../../../preload/contract.ts';
import { electronCarrier } from './electron.ts';
import { takeToken, windowTokenPlace } from './token.ts';
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
