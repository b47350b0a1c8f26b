"""Entry point of the ngspice worker process: `python -m spicelim.spice._worker_main FD PARENT_PID`."""

import sys
from multiprocessing.connection import Connection

from spicelim.spice.worker import child_main

if __name__ == "__main__":
    child_main(Connection(int(sys.argv[1])), int(sys.argv[2]) if len(sys.argv) > 2 else None)
