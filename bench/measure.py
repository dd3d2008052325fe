"""Running one side of a benchmark in a child process and measuring it.

Every side (our crawl, wget, a bare Scrapy crawl, an extraction or WARC run)
is a process of its own, so each gets its own wall time, CPU time and peak
memory, and none inherits another's caches. Peak memory is the largest sum of
the resident sets of the process and all its descendants (extraction workers
included), sampled from /proc every 50 ms: ``ru_maxrss`` would report the largest
single process, not what the crawl as a whole held, and counts what a child held
before ``exec`` as a copy of this (large) process.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class Measured:
    """One child process run: wall seconds, CPU seconds (its tree, and the process itself
    without its descendants, such as extraction workers), peak tree RSS in bytes."""

    command: tuple[str, ...]
    returncode: int
    seconds: float
    cpu_seconds: float
    own_cpu_seconds: float
    peak_rss: int
    stdout: str
    stderr: str

    def check(self) -> Measured:
        """Itself, or an error with the command's last output if it failed."""
        if self.returncode != 0:
            raise RuntimeError(
                f"{' '.join(self.command)} exited with {self.returncode}:\n{self.stderr[-3000:]}{self.stdout[-2000:]}"
            )
        return self


def tree_rss(pid: int) -> int:
    """The summed resident set of a process and its descendants, in bytes (0 once it is gone)."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_SIZE
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    stack.extend(int(child) for child in f.read().split())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a running process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_measured(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 1800,
    log_dir: Path,
) -> Measured:
    """Run a command to completion, sampling its process tree's memory."""
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / "stdout.txt", log_dir / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        began = time.perf_counter()
        proc = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group, so a timeout can end the whole tree
        )
        peak = 0
        own_cpu = 0.0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak, own_cpu
            while not done.wait(SAMPLE_SECONDS):
                peak = max(peak, tree_rss(proc.pid))
                try:
                    own_cpu = cpu_seconds(proc.pid)
                except (FileNotFoundError, ProcessLookupError, IndexError):
                    pass  # exited (or a zombie) since the last sample

        def kill() -> None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        watchdog = threading.Timer(timeout, kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            watchdog.cancel()
        seconds = time.perf_counter() - began
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        command=tuple(command),
        returncode=proc.returncode,
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        own_cpu_seconds=own_cpu,
        peak_rss=peak,
        stdout=out_path.read_text(errors="replace"),
        stderr=err_path.read_text(errors="replace"),
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, str]:
    """What the numbers were measured on."""
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    wget = "wget missing"
    if shutil.which("wget"):
        wget = subprocess.run(["wget", "--version"], capture_output=True, text=True, check=False).stdout
        wget = wget.split("\n")[0].rstrip(".")
    return {
        "cpus": str(os.cpu_count()),
        "cpu": model,
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "wget": wget,
        "load": f"{os.getloadavg()[0]:.2f}",
    }
