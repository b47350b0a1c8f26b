"""Sweeps: a grid or random design over any parameter, run point by point on Dask, resumable.

    from spicelim.sweeps import SweepSpec, run_sweep, load_results
    spec = SweepSpec("read", grid={"rows": [32, 64], "r_wire": [1.0, 2.5]}, fixed={"cols": 32})
    result = run_sweep(spec, "runs/sweep")   # LocalCluster, 2 workers; re-running skips finished points
    result.table.to_pandas()

See design (points, ids, seeds), tasks (what a point runs), store (Parquet results) and runner (Dask).
"""

from .design import REPLICATE, Point, SweepSpec, point_id, point_seed
from .runner import SweepResult, run_point, run_sweep
from .store import ResultStore, load_results
from .tasks import READ_DEFAULTS, SweepTask, get_task

__all__ = ["REPLICATE", "READ_DEFAULTS", "Point", "ResultStore", "SweepResult", "SweepSpec", "SweepTask",
           "get_task", "load_results", "point_id", "point_seed", "run_point", "run_sweep"]
