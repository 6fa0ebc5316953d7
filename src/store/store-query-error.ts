/** A query the store cannot run because a parameter is malformed; the admin API answers it with 400. */
export class StoreQueryError extends Error {
  readonly parameter: string

  constructor(parameter: string, problem: string) {
    super(`${parameter}: ${problem}`)
    this.name = 'StoreQueryError'
    this.parameter = parameter
  }
}

/** A read that ran past its time budget and was cancelled; the admin API answers it with 503 naming the budget. */
export class StoreTimeoutError extends Error {
  readonly budgetMs: number

  constructor(budgetMs: number, detail: string) {
    super(`the query ran past its ${budgetMs} ms budget and was cancelled (${detail}); narrow it (groupId, from, since/until) or retry`)
    this.name = 'StoreTimeoutError'
    this.budgetMs = budgetMs
  }
}

/** A read refused at once because as many admin reads as allowed are running already; the admin API answers it with 503. */
export class StoreBusyError extends Error {
  readonly limit: number

  constructor(limit: number) {
    super(`${limit} admin reads are running already (the limit); retry shortly`)
    this.name = 'StoreBusyError'
    this.limit = limit
  }
}
