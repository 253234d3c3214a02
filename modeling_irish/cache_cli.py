"""``irish-tune prune-cache``: `prune_caches` from the command line, with the size of each
cache entry it removes (or, with ``--dry-run``, would remove) and the space freed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from irish_tune.json_output import print_json

__all__ = ["run_prune_cache", "shown_size"]


def shown_size(size: int) -> str:
    """A size in bytes as people read it: ``B`` under a kilobyte, else kB, MB or GB (powers of
    1000, as ``du --si`` and the docs' cache sizes), one decimal.

    >>> shown_size(512), shown_size(1_600_000), shown_size(22_000_000_000)
    ('512 B', '1.6 MB', '22.0 GB')
    """
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def run_prune_cache(args: argparse.Namespace) -> int:
    """``irish-tune prune-cache``: delete the entries of ``--cache-dir`` (default: train.py's,
    ``runs/.cache``) that no load or run has used for ``--older-than-days`` days, and say each
    with its size and the total; ``--dry-run`` only says them. A folder that does not exist is
    refused (status 2), named; an entry that cannot be removed is named on stderr after the
    report of those removed (which leaves it out), status 2."""
    from irish_tune.parser import DEFAULT_CACHE_DIR
    from modeling_irish.cache_pruning import stale_caches

    folder = Path(args.cache_dir or DEFAULT_CACHE_DIR)
    if not folder.is_dir():
        why = "not a folder" if folder.exists() else "no such folder"
        default = "" if args.cache_dir else " (train.py's default cache; pass --cache-dir)"
        raise FileNotFoundError(f"{why}: {folder}{default}")
    stale = stale_caches(folder, args.older_than_days)
    failed = {} if args.dry_run else _remove(stale)
    done = {path: size for path, size in stale.items() if path not in failed}
    if args.json:
        print_json(_report(folder, done, args), "prune-cache")
    else:
        _print_text(folder, done, args)
    for path, err in failed.items():
        print(
            f"irish-tune prune-cache: cannot remove {path}: {err.strerror or err}", file=sys.stderr
        )
    return 2 if failed else 0


def _remove(stale: dict[Path, int]) -> dict[Path, OSError]:
    """Delete each of the ``stale`` entries (`remove_cache_entry`), past any that cannot be;
    return those, each with its error."""
    from modeling_irish.cache_pruning import remove_cache_entry

    failed = {}
    for path in stale:
        try:
            remove_cache_entry(path)
        except OSError as err:
            failed[path] = err
    return failed


def _report(folder: Path, stale: dict[Path, int], args: argparse.Namespace) -> dict:
    """The one JSON object of ``--json``: the folder, the age, whether it was a dry run, each
    entry (path and bytes), how many and the total bytes."""
    return {
        "cache_dir": str(folder),
        "older_than_days": args.older_than_days,
        "dry_run": args.dry_run,
        "entries": [{"path": str(path), "bytes": size} for path, size in stale.items()],
        "count": len(stale),
        "bytes": sum(stale.values()),
    }


def _print_text(folder: Path, stale: dict[Path, int], args: argparse.Namespace) -> None:
    """The plain-text report: one line per entry (its size, its name), then the total."""
    verb, freed = ("would remove", "would free") if args.dry_run else ("removed", "freed")
    for path, size in stale.items():
        print(f"{shown_size(size):>9}  {path.name}")
    days = f"{args.older_than_days:g}"
    total = shown_size(sum(stale.values()))
    print(f"{folder}: {verb} {len(stale)} entries unused for {days} days ({total} {freed})")
