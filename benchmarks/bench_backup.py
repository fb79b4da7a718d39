"""What `gep backup` and `gep restore` cost on the seeded demo, against plain copies measured in the same run.

    python benchmarks/bench_backup.py [--workdir gep-demo]

The workdir is what `gep demo` wrote (its SQLite database gep.db, its data folder data/, and the region and
accounts it imported in place). The baseline copies the same bytes with nothing else: the database file and the
data folder and the outside folders with shutil; and `tar -czf` of the same files, as one would by hand (the
baseline of the ratios). Then `backup.take` writes the archive (hashing, compressing)
and `restore.restore` restores it into a new database and folder (checking every hash). Prints seconds, sizes and
the ratios to the baseline.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("gep-demo"))
    args = parser.parse_args()
    from gep.app import DOMAINS
    from gep.operations import backup, restore

    work = args.workdir.resolve()
    url, data = f"sqlite:///{work / 'gep.db'}", work / "data"
    with tempfile.TemporaryDirectory(dir=work.parent, prefix=".bench-backup-") as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        shutil.copy(work / "gep.db", tmp / "copy.db")
        shutil.copytree(data, tmp / "copy-data")
        for n, outside in enumerate((work / "region", work / "accounts")):
            shutil.copytree(outside, tmp / f"copy-outside-{n}")
        baseline = time.perf_counter() - t0
        t0 = time.perf_counter()  # what one would do by hand: tar and gzip the same files (unhashed, unchecked)
        subprocess.run(["tar", "-czf", str(tmp / "by-hand.tar.gz"), "-C", str(work), "gep.db", "data", "region",
                        "accounts"], check=True)
        by_hand = time.perf_counter() - t0
        copied = (work / "gep.db").stat().st_size + folder_bytes(data) + sum(
            folder_bytes(work / f) for f in ("region", "accounts"))
        taken = backup.take(url, data, tmp / "backups", DOMAINS)
        target = tmp / "restored"
        t0 = time.perf_counter()
        done = restore.restore(taken.path, f"sqlite:///{target / 'gep.db'}", target / "data", DOMAINS, moved=True)
        restored = time.perf_counter() - t0
    print(f"demo at {work}: database {(work / 'gep.db').stat().st_size / 1e6:.1f} MB, {copied / 1e6:.1f} MB in all, "
          f"{done.files} files, {len(taken.external)} folders of them outside the data folder")
    print(f"plain copies              {baseline:7.2f} s")
    print(f"tar -czf by hand          {by_hand:7.2f} s   (baseline)")
    print(f"gep backup                {taken.seconds:7.2f} s   ×{taken.seconds / by_hand:.2f}   "
          f"archive {taken.size / 1e6:.1f} MB ({taken.size / copied:.0%} of the bytes)")
    print(f"gep restore               {restored:7.2f} s   ×{restored / by_hand:.2f}")


if __name__ == "__main__":
    main()
