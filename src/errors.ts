import createError from '@fastify/error'

/**
 * Every error a client can see, with its HTTP status and the `error` code of the
 * one error shape `{error, message, details?}`. A suppressed pop-up is never an error.
 */
export const ERROR_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  408: 'request_timeout',
  409: 'conflict',
  412: 'precondition_failed',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable_entity',
  428: 'precondition_required',
  429: 'too_many_requests',
  431: 'headers_too_large',
  500: 'internal_error',
  503: 'unavailable'
}

export const InvalidTimezoneError = createError<[string]>('POPGUARD_INVALID_TIMEZONE', 'context.timezone: unknown time zone "%s"', 400)
export const UnauthorizedError = createError('POPGUARD_UNAUTHORIZED', 'a valid API key is required (Authorization: Bearer <key>)', 401)
export const ForbiddenError = createError<[string]>('POPGUARD_FORBIDDEN', 'this API key lacks the "%s" scope', 403)
export const NotFoundError = createError<[string]>('POPGUARD_NOT_FOUND', '%s', 404)
export const UnavailableError = createError<[string]>('POPGUARD_UNAVAILABLE', '%s', 503)

export const PreconditionFailedError = createError<[string]>('POPGUARD_PRECONDITION_FAILED', '%s', 412)
export const PreconditionRequiredError = createError<[string]>('POPGUARD_PRECONDITION_REQUIRED', '%s', 428)
export const UriTooLongError = createError<[number]>('POPGUARD_URI_TOO_LONG', 'the URL is longer than %d characters', 414)
export const ConflictError = createError<[string]>('POPGUARD_CONFLICT', '%s', 409)
export const UserTokenMissingError = createError('POPGUARD_USER_TOKEN_MISSING', 'this API key requires an end-user token (X-User-Token: <JWT naming the user>)', 401)
export const UserTokenInvalidError = createError<[string]>('POPGUARD_USER_TOKEN_INVALID', 'the end-user token is not valid: %s', 401)
export const OtherUserError = createError<[string]>('POPGUARD_OTHER_USER', '%s', 403)
export const LinkTokenMissingError = createError('POPGUARD_LINK_TOKEN_MISSING', 'a preference link token is required (Authorization: Bearer <the token of the link>)', 401)
export const LinkTokenInvalidError = createError<[string]>('POPGUARD_LINK_TOKEN_INVALID', 'the preference link is not valid: %s', 401)
