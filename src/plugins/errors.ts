import type { FastifyError, FastifyInstance } from 'fastify'
import { ERROR_CODES, ValidationError, type FieldDetail } from '../errors.js'
import { validationDetails } from './validation-messages.js'

function fieldDetails (err: FastifyError): FieldDetail[] | undefined {
  if (err instanceof ValidationError) return err.details
  if (err.validation === undefined) return undefined
  return validationDetails(err.validation)
}

/**
 * One error shape for every failure: `{error, message, details?}`. Client errors say
 * what was wrong; server errors say nothing of the internals and are logged instead.
 */
export function useErrorShape (app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) {
      request.log.error({ err }, 'request failed')
      return reply.code(status).send({ error: ERROR_CODES[status] ?? 'internal_error', message: 'internal error' })
    }
    const details = fieldDetails(err)
    const where = err.validationContext !== undefined ? `${err.validationContext} ` : ''
    const message = details !== undefined && details[0] !== undefined && err.validation !== undefined
      ? `invalid ${where}${details[0].path}: ${details[0].message}`
      : err.message
    const body: Record<string, unknown> = { error: ERROR_CODES[status] ?? 'bad_request', message }
    if (details !== undefined) body.details = details
    return reply.code(status).send(body)
  })

  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` })
  })
}
