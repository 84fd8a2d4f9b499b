"""Memory of the running benchmark process, shared by the benchmarks that report it."""

import re
import resource


def peak_rss_mib():
    """This process's peak resident memory in MiB: VmHWM (reset by exec, unlike ru_maxrss,
    which a child inherits from its parent), else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1)) / 1024
    except (OSError, AttributeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
