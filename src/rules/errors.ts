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
