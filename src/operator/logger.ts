/**
 * winston JSON logs. The operator logs objects' keys and API error summaries, never the kubeconfig, its
 * credentials or request headers: nothing here ever receives them.
 */
import * as crypto from 'crypto';
import winston from 'winston';
import type { Logger } from 'winston';
import type { OperatorLogger } from '@dot-i/k8s-operator';

export function createLogger(o: { level?: string; silent?: boolean; stream?: NodeJS.WritableStream } = {}): Logger {
  const transport = o.stream ? new winston.transports.Stream({ stream: o.stream }) : new winston.transports.Console();
  return winston.createLogger({
    level: o.level ?? 'info',
    silent: o.silent ?? false,
    format: winston.format.combine(winston.format.timestamp(), winston.format.errors({ stack: false }), winston.format.json()),
    defaultMeta: { component: 'netseg-operator' },
    transports: [transport],
  });
}

/** The per-reconcile child logger: every line of one pass carries the same key and reconcileId. */
export function reconcileLogger(log: Logger, key: string): Logger {
  return log.child({ key, reconcileId: crypto.randomBytes(4).toString('hex') });
}

/** @dot-i's logger interface, over winston. */
export function dotiLogger(log: Logger): OperatorLogger {
  return {
    debug: (m) => log.debug(m),
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
    error: (m) => log.error(m),
  };
}
