import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ERROR_CODES } from '../errors.js'
import { UnprocessableError, ValidationError, type FieldDetail } from '../rules/errors.js'
import { validationDetails } from './validation-messages.js'
import type { ErrorBody } from '../schemas/common.js'

/** What a 401 answers besides its body (RFC 6750). */
export const WWW_AUTHENTICATE = 'Bearer realm="popguard"'

/** The one error body, with the stable code of its status. */
export function errorBody (status: number, message: string, details?: FieldDetail[]): ErrorBody {
  const error = ERROR_CODES[status] ?? (status >= 500 ? 'internal_error' : 'bad_request')
  return details === undefined ? { error, message } : { error, message, details }
}

function fieldDetails (err: FastifyError): FieldDetail[] | undefined {
  if (err instanceof ValidationError || err instanceof UnprocessableError) return err.details
  if (err.validation === undefined) return undefined
  return validationDetails(err.validation)
}

/**
 * Errors Fastify raises before any route runs (the `frameworkErrors` option). Their own
 * messages quote the raw path, and paths carry user ids: these say what, not which.
 */
export function answerFrameworkError (err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const [status, message] = err.code === 'FST_ERR_BAD_URL'
    ? [400, 'the URL is malformed (invalid percent-encoding)']
    : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, 'a path segment is too long']
      : [500, 'internal error']
  if (status >= 500) reply.log.error({ err: { code: err.code } }, 'routing failed')
  reply.code(status).send(errorBody(status, message))
}

/**
 * One error shape for every failure: `{error, message, details?}`. Client errors say
 * what was wrong; server errors say nothing of the internals and are logged instead.
 */
export const errorsPlugin = fp(async (app) => {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) {
      request.log.error({ err }, 'request failed')
      return reply.code(status).send(errorBody(status, 'internal error'))
    }
    if (status === 401) reply.header('www-authenticate', WWW_AUTHENTICATE)
    const details = fieldDetails(err)
    const where = err.validationContext !== undefined ? `${err.validationContext} ` : ''
    const message = details !== undefined && details[0] !== undefined && err.validation !== undefined
      ? `invalid ${where}${details[0].path}: ${details[0].message}`
      : err.message
    return reply.code(status).send(errorBody(status, message, details))
  })

  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(errorBody(404, `no route ${request.method} ${request.url.split('?')[0] ?? ''}`))
  })
}, { name: 'popguard-errors' })
