/**
 * The UI side of the contract, whatever carries it: arguments are checked before they leave,
 * results and events are checked when they arrive, and errors come back as BridgeError with the
 * back end's code.
 */
import { BridgeError, type WireError } from './contract-kit.ts';
import { events, requests, type CosignerBridge, type EventName, type RequestName } from './contract.ts';

export interface BridgeCarrier {
  invoke(name: RequestName, args: unknown): Promise<{ ok: true; result: unknown } | { ok: false; error: WireError }>;
  listen(name: EventName, listener: (payload: unknown) => void): () => void;
}

/** An event that arrived outside its schema: the back end and this UI disagree (a bug or a version
 *  skew). It is not delivered, and it is reported rather than dropped in silence. */
export type InvalidEventReport = (event: string, detail: string) => void;

const warnInvalidEvent: InvalidEventReport = (event, detail) => {
  console.warn(`event ${event} dropped: outside the contract (${detail})`);
};

export function createBridge(carrier: BridgeCarrier, onInvalidEvent: InvalidEventReport = warnInvalidEvent): CosignerBridge {
  return {
    async call(name, args) {
      const spec = requests[name];
      const parsedArgs = spec.args.safeParse(args ?? {});
      if (!parsedArgs.success) {
        throw new BridgeError({ code: 'INVALID_INPUT', message: parsedArgs.error.issues[0]?.message ?? 'invalid input' });
      }
      const reply = await carrier.invoke(name, parsedArgs.data);
      if (!reply.ok) throw new BridgeError(reply.error);
      const parsed = spec.result.safeParse(reply.result);
      if (!parsed.success) {
        throw new BridgeError({ code: 'INTERNAL', message: `the back end answered ${name} outside the contract` });
      }
      return parsed.data as never;
    },
    subscribe(name, listener) {
      const schema = events[name];
      return carrier.listen(name, (payload) => {
        const parsed = schema.safeParse(payload);
        if (parsed.success) listener(parsed.data as never);
        else onInvalidEvent(name, issueText(parsed.error.issues));
      });
    },
  };
}

/** The first problem of a failed parse, as `path: message`. */
export function issueText(issues: readonly { path: PropertyKey[]; message: string }[]): string {
  const first = issues[0];
  return first ? `${first.path.map(String).join('.') || '(root)'}: ${first.message}` : 'invalid';
}
