/**
 * client-node's HttpError always says "HTTP request failed": the code and the apiserver's Status are buried in
 * `statusCode`/`body`. Every call in src/kube rethrows as ApiError so that callers (and logs) can tell a 409 from
 * a 403 and know what was being done to which object.
 */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

export interface ApiErrorContext {
  readonly verb: Verb;
  readonly kind: string;
  readonly name?: string;
  readonly namespace?: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly context: ApiErrorContext,
    extra: { readonly detail: string; readonly retryAfterSeconds?: number },
  ) {
    super(`${context.verb} ${context.kind} ${where(context)}: ${code} ${reason}: ${extra.detail}`);
    this.retryAfterSeconds = extra.retryAfterSeconds;
  }
  readonly retryAfterSeconds: number | undefined;
  get verb(): Verb {
    return this.context.verb;
  }
  get kind(): string {
    return this.context.kind;
  }
  get objectName(): string | undefined {
    return this.context.name;
  }
}

function where(c: ApiErrorContext): string {
  const ns = c.namespace ? `${c.namespace}/` : '';
  return c.name ? `${ns}${c.name}` : ns || '(cluster)';
}

interface StatusBody {
  reason?: unknown;
  message?: unknown;
  details?: { retryAfterSeconds?: unknown };
}

interface HttpErrorLike {
  statusCode?: unknown;
  body?: unknown;
  response?: { statusCode?: unknown; headers?: Record<string, unknown> };
}

/** Reasons for codes the apiserver may send without a Status body (proxies, timeouts). */
const DEFAULT_REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Gone',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function statusCodeOf(e: HttpErrorLike): number | undefined {
  const c = e.statusCode ?? e.response?.statusCode;
  return typeof c === 'number' ? c : undefined;
}

function retryAfterOf(e: HttpErrorLike, body: StatusBody): number | undefined {
  const fromBody = body.details?.retryAfterSeconds;
  if (typeof fromBody === 'number') return fromBody;
  const header = e.response?.headers?.['retry-after'];
  const n = typeof header === 'string' ? Number(header) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Turns whatever client-node threw into an ApiError; code 0 = no HTTP answer (connection refused, reset, DNS). */
export function toApiError(err: unknown, context: ApiErrorContext): ApiError {
  if (err instanceof ApiError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as HttpErrorLike;
  const code = statusCodeOf(e);
  if (code === undefined) {
    const msg = err instanceof Error ? err.message : String(err);
    return new ApiError(0, 'NetworkError', context, { detail: msg });
  }
  const body = (typeof e.body === 'object' && e.body !== null ? e.body : {}) as StatusBody;
  const reason = typeof body.reason === 'string' && body.reason ? body.reason : (DEFAULT_REASONS[code] ?? 'Unknown');
  const message = typeof body.message === 'string' ? body.message : `HTTP ${code}`;
  return new ApiError(code, reason, context, { detail: message, retryAfterSeconds: retryAfterOf(e, body) });
}

export function isNotFound(e: unknown): boolean {
  return e instanceof ApiError && e.code === 404;
}

export function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409;
}

export function isAlreadyExists(e: unknown): boolean {
  return e instanceof ApiError && e.code === 409 && e.reason === 'AlreadyExists';
}

/** Worth retrying later: throttled, server-side trouble or no answer at all (the apiserver may be restarting). */
export function isTransient(e: unknown): boolean {
  if (!(e instanceof ApiError)) return false;
  return e.code === 0 || e.code === 409 || e.code === 429 || e.code >= 500;
}

/** The HTTP status code to count in metrics, as a label. */
export function codeLabel(e: unknown): string {
  return e instanceof ApiError ? String(e.code) : 'error';
}
