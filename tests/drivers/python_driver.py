#!/usr/bin/python3
"""The driver matrix's scenario for Python: psycopg 3 (server-side prepared statements from
the first execution) or psycopg2 (client-side parameters, the simple protocol).

Usage: python_driver.py psycopg|psycopg2. Connection settings come from PGHOST, PGPORT,
PGUSER, PGPASSWORD and PGDATABASE; DRIVER_CLIENTS workers each run DRIVER_ROUNDS rounds.
Exit status 0: every check passed; 77: the driver is not installed; 1: a check failed.
"""
import os
import sys
import threading

ZONES = ["UTC", "Asia/Tokyo", "America/New_York", "Europe/Paris"]
CHECK = ("SELECT %s::int + %s::int, current_setting('TimeZone'),"
         " current_setting('application_name')")
INSERT = "INSERT INTO driver_log (driver, worker, round) VALUES (%s, %s, %s)"


def main():
    kind = sys.argv[1]
    try:
        if kind == "psycopg":
            import psycopg
        else:
            import psycopg2
    except ImportError as e:
        print(f"SKIP: {kind} is not installed ({e}); apt-get install python3-{kind}")
        return 77
    clients = int(os.environ.get("DRIVER_CLIENTS", "50"))
    rounds = int(os.environ.get("DRIVER_ROUNDS", "20"))
    errors = []

    def worker(i):
        name = f"{kind}-{i}"
        zone = ZONES[i % len(ZONES)]
        try:
            if kind == "psycopg":
                # prepare_threshold=0: every query is a named server-side statement.
                conn = psycopg.connect(application_name=name, autocommit=True,
                                       prepare_threshold=0)
                run = conn.execute
            else:
                conn = psycopg2.connect(application_name=name)
                conn.autocommit = True
                cur = conn.cursor()

                def run(sql, params=None):
                    cur.execute(sql, params)
                    return cur
            run(f"SET TIME ZONE '{zone}'")
            for r in range(rounds):
                got = run(CHECK, (i, r)).fetchone()
                want = (i + r, zone, name)
                if tuple(got) != want:
                    errors.append(f"{name} round {r}: got {got}, want {want}")
                    return
                run("BEGIN")
                run(INSERT, (kind, i, r))
                run("COMMIT")
            conn.close()
        except Exception as e:  # any driver error fails the matrix
            errors.append(f"{name}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors[:20]:
        print("FAIL:", e)
    if errors:
        return 1
    print(f"OK: {kind}, {clients} clients x {rounds} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
