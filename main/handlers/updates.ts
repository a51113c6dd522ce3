import type { UpdateFlow } from '../desktop/updates.ts';
import { CosignerError } from '../errors.ts';
import type { Handlers } from './kit.ts';

/** Why the headless mode has no update check: a server is updated by whoever runs it. */
export const HEADLESS_UPDATES_OFF =
  'The headless mode does not update itself: update it the way it was installed (npm, a package manager, a container image).';

export interface UpdateDeps {
  flow: UpdateFlow;
}

/**
 * "Check for updates" and the two questions after it. Each request is one step the user took;
 * a step out of order is refused in words rather than ignored, so a script driving the API learns
 * why nothing happened.
 */
export function updateHandlers({
  flow,
}: UpdateDeps): Handlers<'updates.status' | 'updates.check' | 'updates.download' | 'updates.install'> {
  const notOff = () => {
    const state = flow.state;
    if (state.step === 'off') throw new CosignerError('UPDATES_OFF', state.why);
  };
  return {
    'updates.status': async () => flow.state,
    'updates.check': async () => {
      notOff();
      return flow.check();
    },
    'updates.download': async () => {
      notOff();
      const step = flow.state.step;
      // Asked again while it downloads, or once it has: the same answer, nothing downloaded twice.
      if (step !== 'available' && step !== 'downloading' && step !== 'ready')
        throw new CosignerError('NO_UPDATE', 'no newer release was found to download: check for updates first', { step });
      return flow.download();
    },
    'updates.install': async () => {
      notOff();
      const step = flow.state.step;
      if (step !== 'ready') throw new CosignerError('NO_UPDATE', 'no release has been downloaded to install', { step });
      const after = await flow.install();
      if (after.step === 'failed') throw new CosignerError('UPDATE_FAILED', `the update could not be installed: ${after.message}`);
      return { ok: true as const };
    },
  };
}
