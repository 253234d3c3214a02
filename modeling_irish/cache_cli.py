"""``irish-tune prune-cache``: `prune_caches` from the command line, with the size of each
cache entry it removes (or, with ``--dry-run``, would remove), the space freed, and how many
entries it keeps and their size."""

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
    with its size and the total, then the entries kept and their size; ``--dry-run`` only
    says them. A folder that does not exist is refused (status 2), named; every entry is
    tried, and each that cannot be removed is named on stderr after the report of those
    removed (which counts it as kept), status 2."""
    from irish_tune.parser import DEFAULT_CACHE_DIR
    from modeling_irish.cache_pruning import cache_entries, stale_caches

    folder = Path(args.cache_dir or DEFAULT_CACHE_DIR)
    if not folder.is_dir():
        why = "not a folder" if folder.exists() else "no such folder"
        default = "" if args.cache_dir else " (train.py's default cache; pass --cache-dir)"
        raise FileNotFoundError(f"{why}: {folder}{default}")
    held = cache_entries(folder)
    stale = stale_caches(folder, args.older_than_days)
    failed = {} if args.dry_run else _remove(stale, folder, args.older_than_days)
    done = {path: size for path, size in stale.items() if path not in failed}
    kept = {path: size for path, size in held.items() if path not in done}
    if args.json:
        print_json(_report(folder, done, kept, failed, args), "prune-cache")
    else:
        _print_text(folder, done, kept, args)
    for path, err in failed.items():
        print(
            f"irish-tune prune-cache: cannot remove {path}: {err.strerror or err}", file=sys.stderr
        )
    return 2 if failed else 0


def _remove(stale: dict[Path, int], folder: Path, older_than_days: float) -> dict[Path, OSError]:
    """Delete each of the ``stale`` entries (`remove_cache_entries`), past any that cannot be;
    return those, each with its error."""
    from modeling_irish.cache_pruning import CachePruneError, remove_cache_entries

    try:
        remove_cache_entries(list(stale), folder, older_than_days)
    except CachePruneError as err:
        return err.failures
    return {}


def _report(
    folder: Path,
    stale: dict[Path, int],
    kept: dict[Path, int],
    failed: dict[Path, OSError],
    args: argparse.Namespace,
) -> dict:
    """The one JSON object of ``--json``: the folder, the age, whether it was a dry run, each
    entry removed (path and bytes), how many and the total bytes, how many entries are kept
    and their bytes, and each entry that could not be removed (path and why)."""
    return {
        "cache_dir": str(folder),
        "older_than_days": args.older_than_days,
        "dry_run": args.dry_run,
        "entries": [{"path": str(path), "bytes": size} for path, size in stale.items()],
        "count": len(stale),
        "bytes": sum(stale.values()),
        "kept_count": len(kept),
        "kept_bytes": sum(kept.values()),
        "failed": [
            {"path": str(path), "error": err.strerror or str(err)} for path, err in failed.items()
        ],
    }


def _print_text(
    folder: Path, stale: dict[Path, int], kept: dict[Path, int], args: argparse.Namespace
) -> None:
    """The plain-text report: one line per entry (its size, its name), then the total removed
    and what is kept (entries not stale, or that could not be removed, as sized before)."""
    from tokenization.capped_warnings import counted

    verb, freed = ("would remove", "would free") if args.dry_run else ("removed", "freed")
    keep = "would keep" if args.dry_run else "kept"
    for path, size in stale.items():
        print(f"{shown_size(size):>9}  {path.name}")
    days = counted(float(args.older_than_days), "day")
    total = shown_size(sum(stale.values()))
    gone, left = (counted(len(entries), "entry", "entries") for entries in (stale, kept))
    print(
        f"{folder}: {verb} {gone} unused for {days} ({total} {freed}); "
        f"{keep} {left} ({shown_size(sum(kept.values()))})"
    )
