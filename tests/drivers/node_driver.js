// The driver matrix's scenario for Node.js: node-postgres (`pg` from npm) with named queries,
// which it prepares once per connection under the given name and then only binds.
// Connection settings come from PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE (pg reads
// them itself); DRIVER_CLIENTS workers each run DRIVER_ROUNDS rounds. Exit status 0: every
// check passed; 77: pg is not installed (NODE_PATH names where it is); 1: a check failed.
'use strict';

let pg;
try {
  pg = require('pg');
} catch (e) {
  console.log(`SKIP: node-postgres is not installed (${e.code}); npm install pg`);
  process.exit(77);
}

const ZONES = ['UTC', 'Asia/Tokyo', 'America/New_York', 'Europe/Paris'];
const clients = Number(process.env.DRIVER_CLIENTS || 50);
const rounds = Number(process.env.DRIVER_ROUNDS || 20);

async function worker(i) {
  const name = `node-${i}`;
  const zone = ZONES[i % ZONES.length];
  const c = new pg.Client({ application_name: name });
  await c.connect();
  try {
    await c.query(`SET TIME ZONE '${zone}'`);
    for (let r = 0; r < rounds; r++) {
      const res = await c.query({
        name: 'check',
        text: "SELECT $1::int + $2::int AS s, current_setting('TimeZone') AS tz," +
          " current_setting('application_name') AS app",
        values: [i, r],
      });
      const row = res.rows[0];
      const got = `${row.s}|${row.tz}|${row.app}`;
      const want = `${i + r}|${zone}|${name}`;
      if (got !== want) {
        throw new Error(`round ${r}: got ${got}, want ${want}`);
      }
      await c.query('BEGIN');
      await c.query({
        name: 'insert',
        text: "INSERT INTO driver_log (driver, worker, round) VALUES ('node', $1, $2)",
        values: [i, r],
      });
      await c.query('COMMIT');
    }
  } finally {
    await c.end();
  }
}

(async () => {
  const results = await Promise.allSettled([...Array(clients).keys()].map(worker));
  const errors = results
    .map((r, i) => (r.status === 'rejected' ? `node-${i}: ${r.reason.message}` : null))
    .filter((e) => e !== null);
  errors.slice(0, 20).forEach((e) => console.log(`FAIL: ${e}`));
  if (errors.length > 0) {
    process.exit(1);
  }
  console.log(`OK: node, ${clients} clients x ${rounds} rounds`);
})();
