"""Where a sweep's results land: one Parquet file per finished point, gathered into one tidy table.

Layout of a results folder:

    sweep.json              what the sweep is (its description and fingerprint)
    points/<point id>.parquet   one row per point, written atomically as the point finishes
    results.parquet, results.csv    the whole table, rewritten after each run of the sweep

A point's file appears complete or not at all (written to a temporary name, then renamed), so a
sweep killed at any moment leaves only finished points behind, and the next run skips them.
A folder holding another sweep's results is refused, not mixed into.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..checkpoint import atomic_write
from ..errors import InvalidParameterError
from ..validation import path_value

FORMAT = 1


class ResultStore:
    """The results folder of one sweep (see the module docstring)."""

    def __init__(self, path, description: dict, fingerprint: str):
        self.path = path_value("results folder", path)
        if self.path.exists() and not self.path.is_dir():
            raise InvalidParameterError(f"results folder {self.path} exists and is not a folder")
        self.points_dir = self.path / "points"
        meta = self.path / "sweep.json"
        if meta.exists():
            try:
                saved = json.loads(meta.read_text())
            except (OSError, ValueError) as exc:
                raise InvalidParameterError(f"{meta} is not a sweep description ({exc})") from None
            if not isinstance(saved, dict) or saved.get("fingerprint") != fingerprint:
                raise InvalidParameterError(
                    f"{self.path} holds the results of a different sweep (fingerprint"
                    f" {saved.get('fingerprint') if isinstance(saved, dict) else '?'}, this sweep's is {fingerprint}):"
                    " choose another folder, or delete it to start again")
        elif self.path.exists() and any(self.path.iterdir()):
            raise InvalidParameterError(f"{self.path} is not empty and holds no sweep.json: it is not a sweep's"
                                        " results folder")
        self._meta_text = json.dumps({"format": FORMAT, "fingerprint": fingerprint, "sweep": description},
                                     indent=1, sort_keys=True)
        for stale in self.points_dir.glob(".*.tmp"):  # left by a kill mid-write
            stale.unlink(missing_ok=True)

    def create(self) -> None:
        """Make the folder and its sweep.json (done just before the first point runs)."""
        self.points_dir.mkdir(parents=True, exist_ok=True)
        meta = self.path / "sweep.json"
        if not meta.exists():
            atomic_write(meta, lambda tmp: Path(tmp).write_text(self._meta_text))

    def finished(self) -> dict[str, str]:
        """{point id: status ("ok" or "failed")} of every point with a result file."""
        out = {}
        for f in self.points_dir.glob("*.parquet"):
            out[f.stem] = pq.read_table(f, columns=["status"]).column("status")[0].as_py()
        return out

    def write(self, row: dict) -> None:
        """Save one point's row (replacing an earlier result of that point)."""
        table = pa.Table.from_pylist([row])
        atomic_write(self.points_dir / f"{row['point_id']}.parquet", lambda tmp: pq.write_table(table, tmp))

    def table(self) -> pa.Table:
        """Every saved row, in design order (one column per parameter, metric and piece of metadata)."""
        return _gather(self.points_dir)

    def export(self) -> tuple[Path, Path]:
        """Write results.parquet and results.csv (atomically) from the saved rows; returns their paths."""
        self.create()
        table = self.table()
        parquet, csv = self.path / "results.parquet", self.path / "results.csv"
        atomic_write(parquet, lambda tmp: pq.write_table(table, tmp))
        atomic_write(csv, lambda tmp: pacsv.write_csv(_flat(table), tmp))
        return parquet, csv


def _flat(table: pa.Table) -> pa.Table:
    """The table with list columns (array metrics) as JSON text, which CSV can hold."""
    for k, field in enumerate(table.schema):
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            text = pa.array([None if v is None else json.dumps(v) for v in table.column(k).to_pylist()], pa.string())
            table = table.set_column(k, field.name, text)
    return table


def load_results(path) -> pa.Table:
    """The table of a results folder (as far as it got), or of a results.parquet file."""
    path = path_value("results", path)
    if path.is_file():
        return pq.read_table(path)
    if not (path / "sweep.json").exists():
        raise InvalidParameterError(f"{path} is not a sweep's results folder (no sweep.json)")
    return _gather(path / "points")


def _gather(points_dir: Path) -> pa.Table:
    files = sorted(points_dir.glob("*.parquet"))
    if not files:
        return pa.table({})
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive").sort_by("point")
