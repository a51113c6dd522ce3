/**
 * The signer directory: signer public key → newest verified signer card → peer id. Cards arrive from
 * direct exchange with a connected peer, or from a DHT lookup; the newest `issuedAt` wins. Bounded
 * LRU, lookups for the same key are shared, and nothing unverified ever enters. The cards of pinned
 * keys (the user's contacts and groups' co-signers) are kept apart from the LRU: any number of fresh
 * identities' cards cannot push out the binding of a signer the user works with.
 */
import { bytesToHex } from '@noble/hashes/utils.js';
import { isCosignerError } from '../errors.ts';
import type { Clock } from '../session/ports.ts';
import { BoundedMap } from './bounded-map.ts';
import { decodeSignerCard, isCardFromTheFuture, isNewerCard } from './signer-card.ts';
import type { SignerCard } from './signer-card.ts';

export type CardSource = 'direct' | 'dht' | 'self';

export type LearnResult =
  | { status: 'new' | 'updated' | 'unchanged'; card: SignerCard }
  | { status: 'rejected'; reason: string }
  /** A valid card older than the one we hold (e.g. a replay). */
  | { status: 'stale'; card: SignerCard };

export interface DirectoryDeps {
  clock: Clock;
  /** Fetches the best card bytes for a signer from the DHT, or undefined. */
  lookup(signer: Uint8Array, signal: AbortSignal): Promise<Uint8Array | undefined>;
  maxEntries?: number;
}

/** Keys pinned at most: the books bound them far below this (contacts, and groups × signers). */
export const MAX_PINNED_SIGNERS = 8192;

export type CardListener = (card: SignerCard, source: CardSource) => void;

export class Directory {
  readonly #deps: DirectoryDeps;
  readonly #cards: BoundedMap<string, SignerCard>;
  /** Signer keys whose cards are never evicted, and their cards (in #pinnedCards, not #cards). */
  readonly #pinned = new Set<string>();
  readonly #pinnedCards = new Map<string, SignerCard>();
  readonly #inflight = new Map<string, Promise<SignerCard | undefined>>();
  readonly #listeners = new Set<CardListener>();

  constructor(deps: DirectoryDeps) {
    this.#deps = deps;
    this.#cards = new BoundedMap(deps.maxEntries ?? 1024);
  }

  /**
   * Verifies and records a card. A 'direct' card must come from the peer it names (`fromPeer`, the
   * Noise-authenticated remote), so a peer cannot pass itself off as another signer's node.
   */
  learn(bytes: Uint8Array, source: CardSource, fromPeer?: string): LearnResult {
    let card: SignerCard;
    try {
      card = decodeSignerCard(bytes);
    } catch (err) {
      if (isCosignerError(err)) return { status: 'rejected', reason: err.code };
      throw err;
    }
    if (source === 'direct' && card.peerId !== fromPeer) return { status: 'rejected', reason: 'WRONG_PEER' };
    if (isCardFromTheFuture(card, this.#deps.clock.now())) return { status: 'rejected', reason: 'TIMESTAMP_OUT_OF_WINDOW' };
    const hex = bytesToHex(card.signerKey);
    const current = this.#card(hex);
    if (current !== undefined && current.issuedAt === card.issuedAt) return { status: 'unchanged', card: current };
    if (!isNewerCard(card, current)) return { status: 'stale', card };
    if (this.#pinned.has(hex)) this.#pinnedCards.set(hex, card);
    else this.#cards.set(hex, card);
    for (const listener of this.#listeners) listener(card, source);
    return { status: current === undefined ? 'new' : 'updated', card };
  }

  get(signer: Uint8Array): SignerCard | undefined {
    return this.#card(bytesToHex(signer));
  }

  /** Keeps these signers' cards out of the LRU from now on (a card already held moves over). */
  pin(signers: Iterable<Uint8Array>): void {
    for (const signer of signers) {
      const hex = bytesToHex(signer);
      if (this.#pinned.has(hex)) continue;
      if (this.#pinned.size >= MAX_PINNED_SIGNERS) return;
      this.#pinned.add(hex);
      const held = this.#cards.peek(hex);
      if (held === undefined) continue;
      this.#cards.delete(hex);
      this.#pinnedCards.set(hex, held);
    }
  }

  #card(hex: string): SignerCard | undefined {
    return this.#pinnedCards.get(hex) ?? this.#cards.get(hex);
  }

  peerOf(signer: Uint8Array): string | undefined {
    return this.get(signer)?.peerId;
  }

  /** Cards bound to a peer id (one node may hold several signer keys). */
  byPeer(peerId: string): SignerCard[] {
    return this.cards().filter((c) => c.peerId === peerId);
  }

  cards(): SignerCard[] {
    return [...this.#pinnedCards.values(), ...this.#cards.values()];
  }

  /** The cached card, or a DHT lookup when there is none or `refresh` is set. */
  async resolve(signer: Uint8Array, options: { signal: AbortSignal; refresh?: boolean }): Promise<SignerCard | undefined> {
    const hex = bytesToHex(signer);
    const cached = this.#card(hex);
    if (cached !== undefined && options.refresh !== true) return cached;
    const running = this.#inflight.get(hex);
    if (running !== undefined) return running;
    const lookup = this.#lookup(signer, options.signal).finally(() => this.#inflight.delete(hex));
    this.#inflight.set(hex, lookup);
    return lookup;
  }

  onCard(listener: CardListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #lookup(signer: Uint8Array, signal: AbortSignal): Promise<SignerCard | undefined> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await this.#deps.lookup(signer, signal);
    } catch {
      // Not found now (timeout, no DHT peers): the caller's delivery retries with a fresh lookup.
      bytes = undefined;
    }
    // A card is stored under its own signer key, so whatever the DHT returned cannot shadow another signer.
    if (bytes !== undefined) this.learn(bytes, 'dht');
    return this.get(signer);
  }
}
