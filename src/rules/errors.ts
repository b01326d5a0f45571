/** A field at fault: its JSON pointer and what is wrong with it. */
export interface FieldDetail { path: string, message: string }

/** A 400 that names the fields at fault. */
export class ValidationError extends Error {
  readonly statusCode = 400
  constructor (message: string, readonly details: FieldDetail[]) {
    super(message)
    this.name = 'ValidationError'
  }
}

/** A 422: well-formed, but its content cannot be used (a candidate policy that is not valid); names the fields at fault. */
export class UnprocessableError extends Error {
  readonly statusCode = 422
  constructor (message: string, readonly details: FieldDetail[]) {
    super(message)
    this.name = 'UnprocessableError'
  }
}
