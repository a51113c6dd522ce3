/**
 * Thin helpers over kad-dht's event streams.
 *
 * The get does its own selection: kad-dht's `get` throws (losing the value it found) when a peer with
 * a stale record refuses the correction it sends, so a single hostile peer could hide any record.
 * Instead every record seen in a GET_VALUE response is re-validated here and our selector picks one.
 */
import { equalBytes } from '@noble/curves/utils.js';
import type { SingleKadDHT } from '@libp2p/kad-dht';
import type { DhtRecordRules } from './dht-records.ts';
import type { CosignerLibp2p } from './node.ts';

/**
 * Nobody to ask: kad-dht holds a query until its routing table has a peer, so with none (co-signers
 * that met through a relay, whose limited connections kad-dht does not use) every lookup took its
 * caller's whole deadline, and a delivery attempt that refreshes a card timed out before it dialled.
 */
function noDhtPeers(libp2p: CosignerLibp2p): boolean {
  return (libp2p.services.dht as SingleKadDHT).routingTable.size === 0;
}

/** The best valid value for `key`, or undefined when none was found before the query ended. */
export async function dhtGet(
  libp2p: CosignerLibp2p,
  rules: DhtRecordRules,
  key: Uint8Array,
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  const namespace = new TextDecoder().decode(key).split('/')[1] ?? '';
  const validate = rules.validators[namespace];
  const select = rules.selectors[namespace];
  if (validate === undefined || select === undefined) throw new RangeError(`no DHT rules for namespace ${namespace}`);
  const candidates: Uint8Array[] = [];
  if (noDhtPeers(libp2p)) return undefined;
  const consider = async (value: Uint8Array): Promise<void> => {
    if (candidates.length >= 32 || candidates.some((c) => equalBytes(c, value))) return;
    try {
      await validate(key, value);
      candidates.push(value);
    } catch {
      // invalid or expired: never a candidate
    }
  };
  try {
    for await (const event of libp2p.services.dht.get(key, { signal })) {
      if (event.name === 'VALUE') await consider(event.value);
      else if (event.name === 'PEER_RESPONSE' && event.messageName === 'GET_VALUE' && event.record != null)
        await consider(event.record.value);
    }
  } catch {
    // timed out, no peers, or a failed correction: choose among what we have
  }
  if (candidates.length === 0) return undefined;
  return candidates[await select(key, candidates)];
}

/** Stores locally and at the closest peers; resolves with the number of remote peers that accepted it. */
export async function dhtPut(libp2p: CosignerLibp2p, key: Uint8Array, value: Uint8Array, signal: AbortSignal): Promise<number> {
  let accepted = 0;
  try {
    for await (const event of libp2p.services.dht.put(key, value, { signal })) {
      if (event.name === 'PEER_RESPONSE' && event.messageName === 'PUT_VALUE') accepted += 1;
    }
  } catch {
    // timed out: report what made it
  }
  return accepted;
}
