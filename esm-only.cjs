// timhook is an ES module package (ESM only). This file is what `require('timhook')` resolves to,
// so that CommonJS code gets an error that says so instead of a missing export.
'use strict'
const err = new Error(
  "timhook is ESM-only: use `import { createReceiver } from 'timhook'` in an ES module, or " +
    "`const { createReceiver } = await import('timhook')` from CommonJS.",
)
err.code = 'ERR_REQUIRE_ESM'
throw err
