import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { Group } from '../../preload/contract.ts';
import { CosignerError } from '../errors.ts';
import type { SessionCoordinator } from '../session/coordinator.ts';
import { base64AsVersion } from '../wallet/psbt-export.ts';
import type { Handlers } from './kit.ts';
import { requestPath } from './session-path.ts';

type SessionRequest =
  | 'sessions.create'
  | 'sessions.createPsbt'
  | 'sessions.approve'
  | 'sessions.decline'
  | 'sessions.abort'
  | 'sessions.resume'
  | 'sessions.psbt'
  | 'sessions.list'
  | 'sessions.history'
  | 'sessions.get';

/** What the handlers use of the coordinator (a fixture can stand in for it). */
export type SessionService = Pick<
  SessionCoordinator,
  'createSession' | 'approve' | 'decline' | 'abort' | 'resume' | 'psbt' | 'list' | 'history' | 'get'
>;

export interface SessionsDeps {
  /** Throws INVALID_INPUT for an unknown id. */
  group(id: string): Group;
  /** The running coordinator; throws KEY_NOT_FOUND when there is no signer key yet. */
  coordinator(): SessionService;
  /** The running coordinator, if any: lists are empty without one. */
  running(): SessionService | undefined;
}

export function sessionHandlers(d: SessionsDeps): Handlers<SessionRequest> {
  return {
    'sessions.create': async ({ groupId, message, path, description, expiresInSeconds }) => {
      const asked = requestPath(d.group(groupId), path);
      const bytes = message.kind === 'text' ? new TextEncoder().encode(message.text) : hexToBytes(message.hex.toLowerCase());
      return d.coordinator().createSession({
        ...asked,
        payload: { kind: 'message', message: bytesToHex(bytes), label: message.kind === 'text' ? message.text : '' },
        description,
        expiresInMs: expiresInSeconds * 1000,
      });
    },
    'sessions.createPsbt': async ({ groupId, psbt, path, description, expiresInSeconds, allowNonDefaultSighash }) => {
      const group = d.group(groupId);
      const asked = requestPath(group, path);
      return d.coordinator().createSession({
        ...asked,
        payload: { kind: 'psbt', psbt, network: group.network, allowNonDefaultSighash },
        description,
        expiresInMs: expiresInSeconds * 1000,
      });
    },
    'sessions.approve': async ({ sessionId }) => d.coordinator().approve(sessionId),
    'sessions.decline': async ({ sessionId, reason }) => d.coordinator().decline(sessionId, reason),
    'sessions.abort': async ({ sessionId, reason }) => d.coordinator().abort(sessionId, reason || undefined),
    'sessions.resume': async ({ sessionId }) => d.coordinator().resume(sessionId),
    'sessions.psbt': async ({ sessionId, version }) => ({ psbtBase64: base64AsVersion(await d.coordinator().psbt(sessionId), version) }),
    'sessions.list': async () => d.running()?.list() ?? [],
    'sessions.history': async ({ cursor, limit }) => d.running()?.history({ cursor, limit }) ?? { sessions: [], next: null },
    'sessions.get': async ({ sessionId }) => {
      const s = await d.coordinator().get(sessionId);
      if (!s) throw new CosignerError('UNKNOWN_SESSION', 'no such session', { sessionId });
      return s;
    },
  };
}
