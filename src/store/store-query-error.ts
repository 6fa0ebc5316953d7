/** A query the store cannot run because a parameter is malformed; the admin API answers it with 400. */
export class StoreQueryError extends Error {
  readonly parameter: string

  constructor(parameter: string, problem: string) {
    super(`${parameter}: ${problem}`)
    this.name = 'StoreQueryError'
    this.parameter = parameter
  }
}
