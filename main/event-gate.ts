/**
 * Events leave the back end only in the shape the contract names (preload/contract.ts `events`),
 * checked here where they are emitted, as request results are in contract-dispatch.ts. A payload
 * outside its schema is a back-end bug: it is not sent (a UI would drop it anyway, and a stray field
 * could carry what must not leave), it is logged with what did not match, and it is counted so that
 * health.get shows it (`invalidEvents`).
 */
import type { EventTable } from '../preload/contract-kit.ts';
import { summarizeIssues } from './contract-dispatch.ts';

export interface EventGate<E extends EventTable> {
  /** Sends `payload` as parsed by the event's schema; false (and counted) when it does not match. */
  emit(event: keyof E & string, payload: unknown): boolean;
  /** Events refused since the start. */
  readonly invalidEvents: number;
}

export interface EventGateOptions<E extends EventTable> {
  events: E;
  deliver(event: keyof E & string, payload: unknown): void;
  onInvalid(event: string, detail: string): void;
}

export function createEventGate<E extends EventTable>({ events, deliver, onInvalid }: EventGateOptions<E>): EventGate<E> {
  let invalid = 0;
  return {
    emit(event, payload) {
      const schema = Object.hasOwn(events, event) ? events[event] : undefined;
      const parsed = schema?.safeParse(payload);
      if (!parsed?.success) {
        invalid++;
        onInvalid(event, parsed ? summarizeIssues(parsed.error) : 'not an event of the contract');
        return false;
      }
      deliver(event, parsed.data);
      return true;
    },
    get invalidEvents() {
      return invalid;
    },
  };
}
