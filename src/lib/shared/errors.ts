// The one error shape every failing request answers with: { error: { code, message, details? } }.

export const ERROR_CODES = {
  bad_request: 400,
  validation_failed: 400,
  unauthenticated: 401,
  forbidden: 403,
  origin_rejected: 403,
  not_found: 404,
  request_timeout: 408,
  conflict: 409,
  stale_version: 409,
  payload_too_large: 413,
  unprocessable: 422,
  too_many_requests: 429,
  headers_too_large: 431,
  internal: 500,
  unavailable: 503
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}
