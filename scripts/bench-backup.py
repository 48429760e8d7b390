#!/usr/bin/env python3
"""Backup and restore, measured against copying the same bytes (issue 16).

Builds an instance from the demo, grows it to a given evidence store size (1 MiB files with
real evidence records, so restore's read-back check reads each) and database size (past
judgements with their feedback, copied from the demo's), then times:

  credence backup DEST            against  cp -r of the evidence + the database copy alone
                                           (SQLite: sqlite3 .backup; PostgreSQL: pg_dump -Fc)
  credence restore DEST           against  cp -r back + (PostgreSQL) pg_restore

Each copy is followed by `sync`, as credence fsyncs what it writes. Run by hand, never in CI:

  cargo build --release -p credence
  python3 scripts/bench-backup.py --credence target/release/credence --evidence-mib 2048 --database-mb 500
  python3 scripts/bench-backup.py ... --database-url postgres://USER@127.0.0.1:PORT/DB \\
      --restore-url postgres://USER@127.0.0.1:PORT/EMPTY_DB

The PostgreSQL databases must exist and be empty. Work goes under --work (default a new
temporary folder), removed at the end unless --keep.
"""

import argparse
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

FEEDBACK = (
    "Observed on the sales floor: the learner qualified the lead against the agreed criteria, "
    "recorded the budget, authority, need and timescale, and agreed the next step with the "
    "prospect. Next time, confirm the decision-making unit before the demonstration. "
)


def run(cmd, env=None, check=True):
    started = time.monotonic()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    took = time.monotonic() - started
    if check and out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return took, out


def sync():
    subprocess.run(["sync"], check=True)


def du(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def sql_runner(url, data):
    """A function running one SQL statement (with parameters) on the instance's database."""
    if url is None:
        db = sqlite3.connect(os.path.join(data, "credence.db"))

        def go(sql, params=(), fetch=False):
            cur = db.execute(sql.replace("%s", "?"), params)
            rows = cur.fetchall() if fetch else None
            db.commit()
            return rows

        return go

    def go(sql, params=(), fetch=False):
        text = sql
        for p in params:
            v = "null" if p is None else ("'" + str(p).replace("'", "''") + "'" if isinstance(p, str) else str(p))
            text = text.replace("%s", v, 1)
        out = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", text],
                             capture_output=True, text=True, check=True)
        if fetch:
            return [tuple(line.split("|")) for line in out.stdout.splitlines() if line]
        return None

    return go


def grow(sql, data, evidence_mib, database_mb, database_url):
    # Evidence: 1 MiB files, each with its record, beside a demo item's learner and centre.
    learner, centre, person = sql(
        "select learner_id, centre_id, added_by from evidence order by evidence_id limit 1", fetch=True)[0]
    folder = os.path.join(data, "evidence", "evidence")
    os.makedirs(folder, exist_ok=True)
    rows = []
    for i in range(evidence_mib):
        body = os.urandom(1 << 20)
        key = f"evidence/{uuid.uuid4()}"
        with open(os.path.join(data, "evidence", key), "wb") as f:
            f.write(body)
        rows.append((learner, centre, f"Bench item {i}", key, hashlib.sha256(body).hexdigest(), person))
        if len(rows) == 256 or i == evidence_mib - 1:
            values = ", ".join(
                f"({r[0]}, {r[1]}, '{r[2]}', '2026-11-02', 'product', 'real_workplace', 'item.bin', "
                f"'application/octet-stream', {1 << 20}, '{r[4]}', '{r[3]}', {r[5]}, '2026-11-30T12:00:00Z')"
                for r in rows)
            sql("insert into evidence (learner_id, centre_id, title, evidence_date, kind, source, file_name, "
                "media_type, size, sha256, object_key, added_by, added_at) values " + values)
            rows = []
    # Database: past judgements with their feedback, copied from the demo's, in rounds until
    # the database is the size asked for.
    def size_mb():
        if database_url is None:
            return os.path.getsize(os.path.join(data, "credence.db")) / 1e6
        return int(sql("select pg_database_size(current_database())", fetch=True)[0][0]) / 1e6

    round_no = 0
    while size_mb() < database_mb:
        round_no += 1
        sql("insert into judgement (learner_id, centre_id, unit_key, criterion, outcome, feedback, rpl, assessor_id, at) "
            "select learner_id, centre_id, unit_key, criterion, outcome, %s || feedback, rpl, assessor_id, at "
            "from judgement", (FEEDBACK * 2 + f"(round {round_no}) ",))
        if round_no > 40:
            break
    return size_mb()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--credence", default="target/release/credence")
    ap.add_argument("--evidence-mib", type=int, default=2048)
    ap.add_argument("--database-mb", type=int, default=500)
    ap.add_argument("--database-url")
    ap.add_argument("--restore-url", help="an empty PostgreSQL database to restore into")
    ap.add_argument("--work")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if a.database_url and not a.restore_url:
        sys.exit("give --restore-url (an empty PostgreSQL database) with --database-url")
    work = a.work or tempfile.mkdtemp(prefix="credence-bench-backup-")
    data, data2 = os.path.join(work, "data"), os.path.join(work, "restored")
    backup, plain = os.path.join(work, "backup"), os.path.join(work, "plain")
    env = dict(os.environ)
    env.pop("CREDENCE_DATABASE_URL", None)
    base = [a.credence, "--data-dir", data] + (["--database-url", a.database_url] if a.database_url else [])
    run(base + ["demo"], env)
    sql = sql_runner(a.database_url, data)
    t = time.monotonic()
    db_mb = grow(sql, data, a.evidence_mib, a.database_mb, a.database_url)
    print(f"Built: {du(os.path.join(data, 'evidence')) / 2**30:.2f} GiB of evidence, a {db_mb:.0f} MB "
          f"{'PostgreSQL' if a.database_url else 'SQLite'} database ({time.monotonic() - t:.0f} s)")
    sync()

    took_backup, _ = run(base + ["backup", backup], env)
    sync()
    os.makedirs(plain)
    t0 = time.monotonic()
    shutil.copytree(os.path.join(data, "evidence"), os.path.join(plain, "evidence"))
    if a.database_url:
        run(["pg_dump", "-Fc", "-f", os.path.join(plain, "db.dump"), a.database_url])
    else:
        run(["sqlite3", os.path.join(data, "credence.db"), f".backup {os.path.join(plain, 'db.sqlite')}"])
    sync()
    took_plain = time.monotonic() - t0

    restore = [a.credence, "--data-dir", data2] + (["--database-url", a.restore_url] if a.restore_url else [])
    took_restore, _ = run(restore + ["restore", backup], env)
    sync()
    t0 = time.monotonic()
    shutil.copytree(os.path.join(plain, "evidence"), os.path.join(work, "plain-restored"))
    if a.database_url:
        # Into a scratch database beside the restore target.
        scratch = a.restore_url.rsplit("/", 1)[0] + "/credence_bench_plain"
        admin = a.restore_url.rsplit("/", 1)[0] + "/postgres"
        run(["psql", admin, "-qc", "drop database if exists credence_bench_plain"])
        run(["psql", admin, "-qc", "create database credence_bench_plain"])
        run(["pg_restore", "-d", scratch, os.path.join(plain, "db.dump")])
    else:
        shutil.copy(os.path.join(plain, "db.sqlite"), os.path.join(work, "plain-restored.sqlite"))
    sync()
    took_plain_restore = time.monotonic() - t0
    if a.database_url:
        run(["psql", admin, "-qc", "drop database if exists credence_bench_plain"])

    kind = "PostgreSQL" if a.database_url else "SQLite"
    print(f"| {kind} | credence | plain copy | ratio |")
    print("|---|---|---|---|")
    print(f"| backup | {took_backup:.1f} s | {took_plain:.1f} s | {took_backup / took_plain:.2f} |")
    print(f"| restore (checks included) | {took_restore:.1f} s | {took_plain_restore:.1f} s | "
          f"{took_restore / took_plain_restore:.2f} |")
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
