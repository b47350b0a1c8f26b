"""ngspice backend: a worker process running libngspice through PySpice."""

from .backend import SpiceBackend, default_run_dir
from .worker import NgspiceWorker, RunOutput

__all__ = ["NgspiceWorker", "RunOutput", "SpiceBackend", "default_run_dir"]
