/**
 * libp2p's component logger, made cheap when silent. The default one builds three `debug` loggers
 * (each asking the OS whether stderr is a terminal) for every component and every scope, and libp2p
 * opens a scope per stream: with logging off that was a measurable share of a signing round. Here a
 * name that `DEBUG` does not enable gets a silent logger, which scopes into silent loggers; an
 * enabled name gets libp2p's own. `DEBUG=libp2p:*` still works as libp2p documents.
 */
import { enabled, logger } from '@libp2p/logger';
import type { ComponentLogger, Logger } from '@libp2p/interface';

function noop(): void {}

function scoped(name: string): Logger {
  if (enabled(name) || enabled(`${name}:error`) || enabled(`${name}:trace`)) return logger(name);
  return Object.assign(noop.bind(null), {
    error: noop,
    trace: noop,
    enabled: false,
    newScope: (scope: string) => scoped(`${name}:${scope}`),
  });
}

export function quietComponentLogger(): ComponentLogger {
  return { forComponent: scoped };
}
