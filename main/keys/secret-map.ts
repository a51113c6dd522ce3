/**
 * The plaintext inside a key file: named secrets.
 *   u16 count, then per entry (sorted by name, names unique):
 *   u8 name length, name (UTF-8), u16 value length, value      (integers big-endian)
 * A binary layout rather than JSON so that every secret lives in a buffer that can be zeroized.
 */

export const MAX_SECRETS = 64;

export function encodeSecretMap(secrets: ReadonlyMap<string, Uint8Array>): Uint8Array {
  if (secrets.size > MAX_SECRETS) throw new RangeError(`at most ${MAX_SECRETS} secrets per file`);
  const entries = [...secrets]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => {
      const nameBytes = new TextEncoder().encode(name);
      if (nameBytes.length === 0 || nameBytes.length > 255) throw new RangeError('secret name must be 1 to 255 bytes');
      if (value.length > 0xffff) throw new RangeError('secret value must be at most 65535 bytes');
      return [nameBytes, value] as const;
    });
  const size = entries.reduce((n, [name, value]) => n + 3 + name.length + value.length, 2);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint16(0, entries.length);
  let at = 2;
  for (const [name, value] of entries) {
    out[at] = name.length;
    out.set(name, at + 1);
    at += 1 + name.length;
    view.setUint16(at, value.length);
    out.set(value, at + 2);
    at += 2 + value.length;
  }
  return out;
}

/** Values are copies; the caller zeroizes `bytes`. Throws RangeError on any malformation. */
export function decodeSecretMap(bytes: Uint8Array): Map<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (at: number, n: number): void => {
    if (at + n > bytes.length) throw new RangeError('secret map truncated');
  };
  need(0, 2);
  const count = view.getUint16(0);
  if (count > MAX_SECRETS) throw new RangeError('too many secrets');
  const secrets = new Map<string, Uint8Array>();
  let at = 2;
  let previous = '';
  for (let i = 0; i < count; i++) {
    need(at, 1);
    const nameLength = bytes[at] as number;
    need(at + 1, nameLength + 2);
    const name = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at + 1, at + 1 + nameLength));
    at += 1 + nameLength;
    const valueLength = view.getUint16(at);
    need(at + 2, valueLength);
    if (name.length === 0 || (i > 0 && name <= previous)) throw new RangeError('secret names not sorted and unique');
    secrets.set(name, bytes.slice(at + 2, at + 2 + valueLength));
    at += 2 + valueLength;
    previous = name;
  }
  if (at !== bytes.length) throw new RangeError('trailing bytes after the secret map');
  return secrets;
}
