/**
 * A screen's user action in flight: `busy` while it runs (buttons disable on it), and the error it
 * ended with, for ErrorNote. One action at a time per screen.
 */
export class Action {
  busy = $state(false);
  error: unknown = $state.raw(null);

  async run(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      await action();
    } catch (e) {
      this.error = e;
    } finally {
      this.busy = false;
    }
  }
}
