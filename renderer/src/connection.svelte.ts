import type { ConnectionState } from './bridge/websocket.ts';

/** The link to the back end, and whether it came back after a loss (when everything is reloaded). */
export class Connection {
  state: ConnectionState = $state('connecting');
  #wasLost = false;

  /** Records a new state; true when the link is open again after having been lost. */
  update(state: ConnectionState): boolean {
    this.state = state;
    if (state === 'closed') this.#wasLost = true;
    if (state === 'open' && this.#wasLost) {
      this.#wasLost = false;
      return true;
    }
    return false;
  }
}
