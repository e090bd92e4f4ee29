"""What the benchmark scripts share about a server process: waiting until /health answers, reading its VmRSS."""
import re
import time
import urllib.request

REST_SECONDS = 3  # "at rest": this long after /health first answers (start-up's own background work settles)


def wait_healthy(proc, port, what, log_name, timeout=180):
    """Asks http://127.0.0.1:PORT/health until it answers 200; fails when the process ends or TIMEOUT seconds pass."""
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"{what} did not start; see {log_name}")
        time.sleep(0.2)


def rss_mib(pid):
    """The process's resident set (VmRSS) in MiB."""
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024
