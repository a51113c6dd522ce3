/**
 * The handlers of one area of the contract: each file in main/handlers builds its area's handlers
 * from explicit dependencies, and main/app.ts spreads them into the one table the contract needs
 * (a missing or extra handler is a type error there).
 */
import type { HandlersOf } from '../../preload/contract-kit.ts';
import type { Requests } from '../../preload/contract.ts';

export type Handlers<K extends keyof Requests> = Pick<HandlersOf<Requests>, K>;
