"""Export speed and memory: our writers against their peers on the same SQLite rows.

Builds a temporary SQLite database with N synthetic answer rows (15 columns, accented free text),
then measures, each export in its own process:
  csv    bot.services.exports.write_csv streaming the rows vs `sqlite3 -csv` dumping them
         (target ratio <= 2; without the sqlite3 tool, Python's sqlite3 + csv module is the peer)
  xlsx   write_xlsx vs a bare xlsxwriter constant_memory loop writing the same rows (target <= 1.3)
         (also shown: a bare Python sqlite3 + csv loop, the floor for any Python writer)
  rss    peak RSS of our exports, read with getrusage(RUSAGE_CHILDREN) (target <= 150 MB)
Run: .venv/bin/python bench/export.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = [
    ("id", "number"),
    ("submitted", "datetime"),
    ("member", "text"),
    ("country", "text"),
    ("region", "text"),
    ("sector", "text"),
    ("survey", "number"),
    ("round", "number"),
    ("language", "text"),
    ("theme", "text"),
    ("q_priority", "text"),
    ("q_years", "number"),
    ("q_satisfaction", "number"),
    ("q_need", "text"),
    ("q_proposal", "text"),
]
FREE = [
    "Acceso a la salud y a la educación bilingüe para los niños",
    "Más consulados móviles; la distancia es un problema en Québec",
    '=HYPERLINK("http://x","y") reconocimiento de títulos',
    "Vivienda asequible, empleo formal y cursos de francés",
    "Que el voto en el exterior sea más fácil, por favor",
    "Trámites en línea: pasaporte, cédula, apostilla",
]


def build(database: Path, rows: int) -> None:
    """Fill one answers table with synthetic rows (seeded, so runs compare)."""
    rng = random.Random(7)
    connection = sqlite3.connect(database)
    names = ", ".join(
        f"{name} {'INTEGER' if kind == 'number' else 'TEXT'}" for name, kind in COLUMNS
    )
    connection.execute(f"CREATE TABLE answers ({names})")
    regions = {"CA": ["QC", "ON", "BC", "AB"], "US": ["NY", "FL", "TX", "CA"]}
    sectors = ["salud", "educación", "empleo", "vivienda", "cultura"]

    def generate():
        for i in range(rows):
            country = rng.choice(["CA", "US"])
            yield (
                i + 1,
                f"2025-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00+00:00",
                f"P-{rng.randrange(10**6):06d}",
                country,
                rng.choice(regions[country]),
                rng.choice(sectors),
                1 + i % 3,
                1 + i % 2,
                rng.choice(["es", "en", "fr"]),
                rng.choice(["migración", "economía", "participación"]),
                rng.choice(["Salud", "Educación", "Empleo", "Vivienda"]),
                rng.randrange(40),
                rng.randrange(1, 6),
                rng.choice(FREE) + f" ({i})",
                " ".join(rng.choice(FREE) for _ in range(2)),
            )

    connection.executemany(
        f"INSERT INTO answers VALUES ({', '.join('?' * len(COLUMNS))})", generate()
    )
    connection.commit()
    connection.close()


QUERY = f"SELECT {', '.join(name for name, _ in COLUMNS)} FROM answers ORDER BY id"


def child(mode: str, database: Path, out: Path) -> None:
    """Run one export in this process and print its time and this process's peak RSS."""
    sys.path.insert(0, str(ROOT))
    connection = sqlite3.connect(database)
    # Imports stay outside the timed part, for ours and the peers alike.
    import xlsxwriter

    from bot.services.exports import Column, Dataset, ReadmeInfo, write_csv, write_xlsx

    started = time.perf_counter()
    if mode in ("ours-csv", "ours-xlsx"):
        connection.row_factory = sqlite3.Row
        columns = [
            Column(name, name.replace("_", " ").title(), kind=kind, from_user=name.startswith("q_"))
            for name, kind in COLUMNS
        ]
        dataset = Dataset("answers", columns, connection.execute(QUERY))
        if mode == "ours-csv":
            write_csv(dataset, out)
        else:
            readme = ReadmeInfo("Bench", "2025-03-01 15:00 UTC", "2025-03-01 10:00 America/Toronto")
            write_xlsx(out, [dataset], readme)
    elif mode == "py-csv":
        with out.open("w", encoding="utf-8-sig", newline="") as stream:
            writer = csv.writer(stream)
            cursor = connection.execute(QUERY)
            writer.writerow([d[0] for d in cursor.description])
            writer.writerows(cursor)
    elif mode == "bare-xlsx":
        book = xlsxwriter.Workbook(str(out), {"constant_memory": True})
        sheet = book.add_worksheet("answers")
        cursor = connection.execute(QUERY)
        sheet.write_row(0, 0, [d[0] for d in cursor.description])
        for r, row in enumerate(cursor, start=1):
            sheet.write_row(r, 0, row)
        book.close()
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss_kb": rss}))


def run_child(mode: str, database: Path, out: Path) -> tuple[float, float, int]:
    """(export seconds, wall seconds incl. interpreter start, RUSAGE_CHILDREN peak KB so far)."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--db", str(database), "--out", str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return figures["seconds"], wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--child")
    parser.add_argument("--db", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.db, args.out)
        return
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        database = work / "bench.db"
        started = time.perf_counter()
        build(database, args.rows)
        print(
            f"built {args.rows:,} rows x {len(COLUMNS)} columns in {time.perf_counter() - started:.1f} s"
        )
        # Ours first: RUSAGE_CHILDREN keeps the largest child so far, so these peaks are ours alone.
        csv_s, csv_wall, csv_rss = run_child("ours-csv", database, work / "ours.csv")
        xlsx_s, xlsx_wall, xlsx_rss = run_child("ours-xlsx", database, work / "ours.xlsx")
        tool = shutil.which("sqlite3")
        if tool:
            peer_name = "sqlite3 -csv (CLI)"
            started = time.perf_counter()
            with (work / "peer.csv").open("wb") as out:
                subprocess.run(
                    [tool, "-csv", "-header", str(database), QUERY], stdout=out, check=True
                )
            peer_csv = time.perf_counter() - started
        else:
            print(
                "sqlite3 command-line tool not found: the CSV peer is Python's sqlite3 + csv module"
            )
            peer_name = "python sqlite3+csv"
            peer_csv, _, _ = run_child("py-csv", database, work / "peer.csv")
        bare_s, bare_wall, _ = run_child("bare-xlsx", database, work / "bare.xlsx")
        floor_s, floor_wall, _ = run_child("py-csv", database, work / "floor.csv")
        rows = [
            ("CSV: write_csv", csv_s, csv_wall, (work / "ours.csv").stat().st_size),
            (f"CSV peer: {peer_name}", peer_csv, peer_csv, (work / "peer.csv").stat().st_size),
            (
                "CSV floor: python sqlite3+csv",
                floor_s,
                floor_wall,
                (work / "floor.csv").stat().st_size,
            ),
            ("XLSX: write_xlsx", xlsx_s, xlsx_wall, (work / "ours.xlsx").stat().st_size),
            ("XLSX peer: bare xlsxwriter", bare_s, bare_wall, (work / "bare.xlsx").stat().st_size),
        ]
        print(f"\n{'export':34} {'export s':>9} {'wall s':>8} {'MB':>7}")
        for name, seconds, wall, size in rows:
            print(f"{name:34} {seconds:9.2f} {wall:8.2f} {size / 2**20:7.1f}")
        print(f"\nCSV ratio  (ours / {peer_name}): {csv_s / peer_csv:.2f}x (target <= 2)")
        print(f"CSV floor  (bare Python sqlite3+csv / {peer_name}): {floor_s / peer_csv:.2f}x")
        print(f"CSV ratio  (ours / bare Python sqlite3+csv): {csv_s / floor_s:.2f}x")
        print(f"XLSX ratio (ours / bare xlsxwriter): {xlsx_s / bare_s:.2f}x (target <= 1.3)")
        print(f"peak RSS (RUSAGE_CHILDREN) after the CSV export:  {csv_rss / 1024:.0f} MB")
        print(
            f"peak RSS (RUSAGE_CHILDREN) after the XLSX export: {xlsx_rss / 1024:.0f} MB (target <= 150)"
        )
        print("(export s: measured inside the exporting process; wall s adds interpreter start-up)")


if __name__ == "__main__":
    main()
