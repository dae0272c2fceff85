"""The bench's Python side: exec of `true` through the runtools Python SDK.

Usage: python exec_true.py SANDBOX_ID SETTLE_SECONDS, with RUNTOOLS_URL and
RUNTOOLS_API_KEY set. It connects to the sandbox, runs two uncounted execs,
prints one JSON line with its versions, then for every line N it reads
runs N execs, each after the settle gap, and prints their durations in
nanoseconds as one JSON list. It ends at the end of its input.
"""
import json
import sys
import time

import httpx
from runtools import Sandbox


def exec_true(sb: Sandbox) -> None:
    r = sb.exec(["true"])
    if r.exit_code != 0 or r.error:
        sys.exit(f"exec true: exit code {r.exit_code}: {r.error}")


def main() -> None:
    sandbox_id, settle = sys.argv[1], float(sys.argv[2])
    sb = Sandbox.connect(sandbox_id)
    for _ in range(2):
        exec_true(sb)
    print(json.dumps({"python": sys.version.split()[0], "httpx": httpx.__version__}), flush=True)
    for line in sys.stdin:
        took = []
        for _ in range(int(line)):
            time.sleep(settle)
            t0 = time.perf_counter_ns()
            exec_true(sb)
            took.append(time.perf_counter_ns() - t0)
        print(json.dumps(took), flush=True)


main()
