/**
 * Per-signer, per-input cost of a MuSig2 round: the engine's SigningBatch (key aggregation and
 * public-data work shared by the batch, fast signing, final-signature check on aggregation) next to
 * the plain library path measured in the same run (for every input: keyAggregate, new Session,
 * self-verifying sign, partialSigVerify of every partial, partialSigAgg, BIP340 verify).
 * nonce, setup and sign are one signer's work; verify and aggregate are the aggregator's whole work.
 * Last, the cost of checking a co-signer's message signature, with and without its prepared table.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { IndividualPubkey, keyAggExport, keyAggregate, nonceAggregate, nonceGen, Session } from '@scure/btc-signer/musig2.js';
import {
  aggregateKeys,
  generateNonce,
  KeyVerifier,
  publicKeyOf,
  SigningBatch,
  verifySignature,
  type SecretNonce,
} from '../../main/musig/index.ts';

type Phases = { nonce: number; setup: number; sign: number; verify: number; aggregate: number };
type Measure = Phases & { inputs: number; valid: boolean };

const now = () => performance.now();
const random32 = () => crypto.getRandomValues(new Uint8Array(32));

function plain(secretKeys: Uint8Array[], messages: Uint8Array[]): Measure {
  const n = secretKeys.length;
  const publicKeys = secretKeys.map((sk) => IndividualPubkey(sk));
  const t: Phases = { nonce: 0, setup: 0, sign: 0, verify: 0, aggregate: 0 };
  let valid = true;
  for (const msg of messages) {
    let start = now();
    const agg = keyAggregate(publicKeys);
    const aggPublicKey = keyAggExport(agg);
    t.setup += now() - start;
    start = now();
    const nonces = secretKeys.map((sk, i) => nonceGen(publicKeys[i] as Uint8Array, sk, aggPublicKey, msg));
    t.nonce += (now() - start) / n;
    start = now();
    const publicNonces = nonces.map((x) => x.public);
    const session = new Session(nonceAggregate(publicNonces), publicKeys, msg);
    t.setup += now() - start;
    start = now();
    const partials = secretKeys.map((sk, i) => session.sign((nonces[i] as { secret: Uint8Array }).secret, sk));
    t.sign += (now() - start) / n;
    start = now();
    partials.forEach((psig, i) => {
      valid &&= session.partialSigVerify(psig, publicNonces, i);
    });
    t.verify += now() - start;
    start = now();
    const signature = session.partialSigAgg(partials);
    valid &&= schnorr.verify(signature, msg, aggPublicKey);
    t.aggregate += now() - start;
  }
  return perInput(t, messages.length, valid);
}

function batch(secretKeys: Uint8Array[], messages: Uint8Array[]): Measure {
  const n = secretKeys.length;
  const t: Phases = { nonce: 0, setup: 0, sign: 0, verify: 0, aggregate: 0 };
  let start = now();
  const ctx = aggregateKeys(secretKeys.map(publicKeyOf));
  t.setup += now() - start;
  start = now();
  const nonces = secretKeys.map((secretKey) => messages.map((message) => generateNonce({ secretKey, ctx, message })));
  t.nonce += (now() - start) / n;
  start = now();
  const signing = new SigningBatch(
    ctx,
    messages,
    nonces.map((list) => list.map((x) => x.publicNonce)),
  );
  t.setup += now() - start;
  start = now();
  const partials = secretKeys.map((sk, i) =>
    signing.sign(
      i,
      sk,
      (nonces[i] as { secretNonce: SecretNonce }[]).map((x) => x.secretNonce),
    ),
  );
  t.sign += (now() - start) / n;
  // No per-partial verification: aggregate verifies each final signature and only on failure
  // verifies partials to find the culprit.
  start = now();
  const signatures = signing.aggregate(partials);
  t.aggregate += now() - start;
  const valid = signatures.every((sig, m) => verifySignature(sig, messages[m] as Uint8Array, ctx.xOnlyKey));
  return perInput(t, messages.length, valid);
}

function perInput(t: Phases, inputs: number, valid: boolean): Measure {
  return {
    nonce: t.nonce / inputs,
    setup: t.setup / inputs,
    sign: t.sign / inputs,
    verify: t.verify / inputs,
    aggregate: t.aggregate / inputs,
    inputs,
    valid,
  };
}

/** Runs `run` `repeat` times over fresh keys and messages and averages the per-input costs. */
function average(run: typeof plain, signers: number, inputs: number, repeat: number): Measure {
  const sum: Measure = { nonce: 0, setup: 0, sign: 0, verify: 0, aggregate: 0, inputs: 0, valid: true };
  for (let r = 0; r < repeat; r++) {
    const m = run(
      Array.from({ length: signers }, () => schnorr.utils.randomSecretKey()),
      Array.from({ length: inputs }, random32),
    );
    for (const k of ['nonce', 'setup', 'sign', 'verify', 'aggregate'] as const) sum[k] += m[k] / repeat;
    sum.inputs += m.inputs;
    sum.valid &&= m.valid;
  }
  return sum;
}

const ms = (x: number) => Number(x.toFixed(3));
const total = (m: Phases) => m.nonce + m.setup + m.sign + m.verify + m.aggregate;

// [signers, inputs per batch, repetitions, inputs the plain path is measured on]: the plain path
// treats inputs independently, so its per-input cost is measured on fewer inputs where it is slow.
const CASES: [number, number, number, number][] = [
  [2, 1, 20, 1],
  [2, 100, 1, 100],
  [3, 1, 20, 1],
  [3, 100, 1, 100],
  [16, 1, 3, 1],
  [16, 100, 1, 20],
];

export default async function musigBench(): Promise<void> {
  average(plain, 2, 5, 1);
  average(batch, 2, 5, 1);
  const rows: Record<string, string | number | boolean>[] = [];
  const summary: Record<string, string | number>[] = [];
  for (const [signers, inputs, repeat, plainInputs] of CASES) {
    const label = `${signers}-of-${signers}, ${inputs === 1 ? '1 message' : `${inputs}-input batch`}`;
    const p = average(plain, signers, plainInputs, repeat);
    const b = average(batch, signers, inputs, repeat);
    const ratio = total(p) / total(b);
    for (const [path, m] of [
      ['plain', p],
      ['batch', b],
    ] as const) {
      rows.push({
        case: label,
        path,
        'nonce ms': ms(m.nonce),
        'setup ms': ms(m.setup),
        'sign ms': ms(m.sign),
        'verify ms': ms(m.verify),
        'aggregate ms': ms(m.aggregate),
        'total ms': ms(total(m)),
        'plain/batch': path === 'batch' ? `${ratio.toFixed(1)}x` : '',
        'inputs measured': m.inputs,
        valid: m.valid,
      });
    }
    summary.push({ case: label, 'plain ms/input': ms(total(p)), 'batch ms/input': ms(total(b)), 'plain/batch': `${ratio.toFixed(1)}x` });
  }
  console.log('MuSig2 cost per signer per input (verify and aggregate: the aggregator, whole; batch verify happens inside aggregate)');
  console.table(rows);
  console.table(summary);
  console.log("BIP340 verification of a co-signer's messages: noble's schnorr.verify, and KeyVerifier with the key prepared");
  console.table(keyVerification(400));
}

function keyVerification(count: number): Record<string, string | number>[] {
  const secret = schnorr.utils.randomSecretKey();
  const key = schnorr.getPublicKey(secret);
  const messages = Array.from({ length: count }, () => random32());
  const signatures = messages.map((m) => schnorr.sign(m, secret));
  const verifier = new KeyVerifier();
  const start = now();
  verifier.prepare(key);
  const prepareMs = now() - start;
  const time = (verify: (s: Uint8Array, m: Uint8Array) => boolean): number => {
    for (let i = 0; i < 50; i++) verify(signatures[i]!, messages[i]!);
    const t = now();
    for (let i = 0; i < count; i++) if (!verify(signatures[i]!, messages[i]!)) throw new Error('a valid signature failed');
    return (now() - t) / count;
  };
  const noble = time((s, m) => schnorr.verify(s, m, key));
  const prepared = time((s, m) => verifier.verify(s, m, key));
  return [
    { path: 'schnorr.verify', 'ms per signature': ms(noble), 'one-time preparation ms': '' },
    { path: 'KeyVerifier, key prepared', 'ms per signature': ms(prepared), 'one-time preparation ms': ms(prepareMs) },
  ];
}
