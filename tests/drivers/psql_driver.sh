#!/usr/bin/env bash
# The driver matrix's scenario for psql (libpq's simple query protocol): DRIVER_CLIENTS psql
# sessions at once, each setting its time zone and application_name outside a transaction
# and then running DRIVER_ROUNDS rounds of a check query and a BEGIN/INSERT/COMMIT.
# Connection settings come from PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE.
# Exit status 0: every session printed exactly what it should; 1: one did not.
set -uo pipefail
clients=${DRIVER_CLIENTS:-50}
rounds=${DRIVER_ROUNDS:-20}
psql=${PSQL:-psql}
zones=(UTC Asia/Tokyo America/New_York Europe/Paris)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for ((i = 0; i < clients; i++)); do
    zone=${zones[i % 4]}
    args=(-c "SET TIME ZONE '$zone'" -c "SET application_name = 'psql-$i'")
    : >"$out/want.$i"
    for ((r = 0; r < rounds; r++)); do
        args+=(-c "SELECT $i + $r, current_setting('TimeZone'), current_setting('application_name')"
            -c "BEGIN" -c "INSERT INTO driver_log (driver, worker, round) VALUES ('psql', $i, $r)"
            -c "COMMIT")
        echo "$((i + r))|$zone|psql-$i" >>"$out/want.$i"
    done
    "$psql" -X -q -At -v ON_ERROR_STOP=1 "${args[@]}" >"$out/got.$i" 2>&1 &
done
wait
failed=0
for ((i = 0; i < clients; i++)); do
    # SET, BEGIN, INSERT and COMMIT print nothing with -q; only the check rows remain, and
    # an error message would show in the difference.
    if ! diff -q "$out/want.$i" "$out/got.$i" >/dev/null; then
        echo "FAIL: psql-$i printed:"
        head -5 "$out/got.$i"
        failed=1
    fi
done
if [ $failed = 1 ]; then
    exit 1
fi
echo "OK: psql, $clients clients x $rounds rounds"
