/**
 * A new request's announcement body, built and checked from the caller's input (createSession).
 */
import { CosignerError } from '../errors.ts';
import { psbtBytes } from '../wallet/psbt-import.ts';
import { equalKeys } from './announcement.ts';
import { SALT_BYTES, type AnnouncementBody, type Payload } from './codec.ts';
import { parseHex } from './live.ts';
import type { SessionContext } from './context.ts';
import type { CreateSessionInput, MessageInput } from './coordinator.ts';

export function buildBody(ctx: SessionContext, input: CreateSessionInput, now: number): AnnouncementBody {
  if (typeof input !== 'object' || input === null || !Array.isArray(input.signers)) {
    throw new CosignerError('INVALID_INPUT', 'signers are required');
  }
  const signers = input.signers.map((key, i) => parseHex(key, `signers[${i}]`));
  const creatorIndex = signers.findIndex((key) => equalKeys(key, ctx.localKey));
  if (creatorIndex < 0) throw new CosignerError('NOT_A_SIGNER', 'the local signer must be one of the signers');
  if (input.tweak !== 'taproot' && input.tweak !== 'path') {
    throw new CosignerError(
      'INVALID_INPUT',
      "tweak must be taproot or path: messages are BIP322 signatures for the group's address, PSBT inputs spends of its outputs",
      {
        field: 'tweak',
      },
    );
  }
  if ((input.tweak === 'path') !== (input.group !== undefined)) {
    throw new CosignerError('INVALID_INPUT', 'a group path goes with tweak "path", and only with it', { field: 'group' });
  }
  const group = input.group && { id: parseHex(input.group.id, 'group.id'), path: input.group.path };
  const ttl = input.expiresInMs ?? ctx.options.defaultSessionTtlMs;
  if (!Number.isSafeInteger(ttl) || ttl <= 0 || ttl > ctx.options.sessionTimeoutMs) {
    throw new CosignerError('INVALID_INPUT', 'expiry must be within the session timeout', { max: ctx.options.sessionTimeoutMs });
  }
  const item = (m: MessageInput, i: number) => ({ message: parseHex(m.message, `message ${i}`), label: m.label ?? '' });
  let payload: Payload;
  if (input.payload?.kind === 'message') {
    payload = { kind: 'message', ...item(input.payload, 0) };
  } else if (input.payload?.kind === 'batch' && Array.isArray(input.payload.items)) {
    payload = { kind: 'batch', items: input.payload.items.map(item) };
  } else if (input.payload?.kind === 'psbt') {
    payload = {
      kind: 'psbt',
      network: input.payload.network,
      allowNonDefaultSighash: input.payload.allowNonDefaultSighash === true,
      psbt: psbtBytes(input.payload.psbt),
    };
  } else {
    throw new CosignerError('INVALID_INPUT', 'payload must be a message, a batch or a PSBT');
  }
  return {
    signers,
    creatorIndex,
    tweak: input.tweak,
    ...(group ? { group } : {}),
    createdAt: now,
    expiresAt: now + ttl,
    salt: ctx.random.bytes(SALT_BYTES),
    display: input.description ?? '',
    payload,
  };
}
