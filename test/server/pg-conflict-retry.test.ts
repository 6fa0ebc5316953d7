/**
 * A commit PostgreSQL aborts for a deadlock or a serialization failure is retried inside the
 * server: the caller gets its 200, the retry is logged at warn (not as an outage) and counted in
 * `timhook_store_conflicts_retried_total`; only after the last attempt is it answered FAIL.
 * PostgreSQL raises the real SQLSTATE 40P01 here, from a trigger in this test's own schema that
 * fails the first attempts (a sequence counts them: it is not rolled back with the transaction).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import type { RunningServer } from '../../src/server/start-server.js'
import { CONFLICT_ATTEMPTS } from '../../src/store/postgres-backend.js'
import { PG_SKIP, PG_URL, dropSchema } from '../store/helpers.js'
import { ADMIN, captureLogs, groupAfterSend, postCallback, startTestServer } from './helpers.js'

describe('conflicts retried inside the server (PostgreSQL)', { skip: PG_SKIP }, () => {
  const schema = `cfl_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const logs = captureLogs()
  let server: RunningServer
  let admin: pg.Client
  before(async () => {
    server = await startTestServer({ db: PG_URL, pgSchema: schema }, logs.stream)
    admin = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${schema}` })
    await admin.connect()
    await admin.query(`CREATE SEQUENCE attempts;
      CREATE TABLE budget (n int NOT NULL);
      CREATE FUNCTION conflict() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF nextval('attempts') <= (SELECT n FROM budget) THEN RAISE EXCEPTION 'simulated deadlock' USING ERRCODE = '40P01'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER conflict BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION conflict();`)
  })
  after(async () => {
    await server?.close()
    await admin?.end()
    await dropSchema(schema)
  })

  const failures = async () =>
    Number(
      /timhook_store_conflicts_retried_total (\d+)/.exec(
        await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text(),
      )?.[1],
    )

  it('answers 200 after conflicts, logs them at warn and counts them; not an outage', async () => {
    await admin.query(`INSERT INTO budget VALUES (2); SELECT setval('attempts', 1, false)`)
    const res = await postCallback(server.url, groupAfterSend('conflict', 1))
    assert.equal(res.status, 200)
    assert.equal(await failures(), 2)
    const warned = logs.lines.filter((l) => /retrying it/.test(String(l.msg)))
    assert.deepEqual(
      warned.map((l) => [l.level, l.attempt]),
      [
        [40, 1],
        [40, 2],
      ],
    )
    assert.equal(logs.lines.filter((l) => Number(l.level) >= 50).length, 0, 'no error line: not an outage')
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200)
  })

  it(`answers FAIL once ${CONFLICT_ATTEMPTS} attempts met a conflict`, async () => {
    await admin.query(`UPDATE budget SET n = 100; SELECT setval('attempts', 1, false)`)
    const res = await postCallback(server.url, groupAfterSend('conflict', 2))
    assert.equal(res.status, 503)
    assert.match(String(res.answer.ErrorInfo), /simulated deadlock/)
    await admin.query(`UPDATE budget SET n = 0`)
  })
})
