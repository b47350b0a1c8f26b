"""Entry point of the ngspice worker process: `python -m spicelim.spice._worker_main FD`."""

import sys
from multiprocessing.connection import Connection

from spicelim.spice.worker import child_main

if __name__ == "__main__":
    child_main(Connection(int(sys.argv[1])))
