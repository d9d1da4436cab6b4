"""The chaos harness: real `djq start` processes, a private database, random faults, invariants.

``ChaosRun(vendor, supervisors, seconds, tmp)`` starts a private PostgreSQL or
MariaDB server (``tests/servers.py``) behind a ``TcpProxy``, registers it as
the database and TASKS alias ``chaos`` in this process, migrates it, and starts
``supervisors`` runtimes that reach it through the proxy. Then, for ``seconds``:

- a workload thread enqueues plain, scheduled, limited (limit 1 and 2) and
  retrying jobs (``tests/chaos/tasks.py``), and a recurring task fires every
  two seconds; every task appends start/end lines to a journal;
- a fault thread injects one fault at a time, every few seconds: SIGKILL or
  SIGSTOP (for up to 2.5 alive thresholds) then SIGCONT of a worker,
  dispatcher, scheduler or supervisor; a fast or immediate restart of the
  database server; an outage (the proxy refuses every connection) longer than
  the alive threshold. A SIGKILLed supervisor is started again, as a service
  manager would;
- a monitor thread notes every runtime process it sees, and when each dies.

``settle()`` ends the faults and the workload, waits until every job that is
not recurring is terminal, stops the runtimes and waits for every process to
exit. ``violations()`` then checks the invariants: every job terminal exactly
once (one successful attempt, the last, for a finished job; none for a failed
one) or still waiting; a finished job has a complete run in the journal; no
job's runs overlap; no more runs of a concurrency key overlap than its limit;
every semaphore is whole again; every recurring slot fired once, as one job;
no process is left. ``summary()`` gives the numbers (jobs, runs, faults per
kind, violations).

A run that was frozen can only overlap with its retry if its process went on
after being pruned; a run without an end closes when its process was stopped
for good (SIGSTOP, then killed) or died.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from tests.runtime.harness import FAST_OPTIONS, Runtime, wait_until
from tests.runtime.proxy import TcpProxy
from tests.servers import PrivateMariaDB, PrivatePostgres

ALIAS = "chaos"
THRESHOLD = FAST_OPTIONS["process_alive_threshold"]
TERMINAL = {"finished", "failed", "discarded"}
WAITING = {"ready", "scheduled", "blocked"}
KINDS = ("worker", "dispatcher", "scheduler", "supervisor")
#: Waiting jobs past which the workload pauses, so that a long run settles in bounded time.
MAX_BACKLOG = 150
FAULTS = (
    *(f"kill_{k}" for k in KINDS),
    *(f"stop_{k}" for k in KINDS),
    "db_restart_fast",
    "db_restart_immediate",
    "outage",
)


def runtime_options(journal: str) -> dict:
    return {
        "workers": [{"queues": ["*"], "threads": 3, "processes": 2, "polling_interval": 0.05,
                     "prefetch_multiplier": 2}],
        "dispatchers": [{"polling_interval": 0.1, "concurrency_maintenance_interval": 5}],
        "scheduler": {"polling_interval": 0.5},
        "retry": {"max_attempts": 3, "backoff_base": 0.3, "backoff_factor": 1, "backoff_cap": 1, "jitter": 0},
        "recurring": {"tick": {"task_path": "tests.chaos.tasks.plain", "schedule": "* * * * * */2",
                               "args": [journal, 0.05]}},
        "shutdown_timeout": 5,
    }


@dataclass(frozen=True)
class Line:
    event: str
    job: int
    pid: int
    at: float
    key: str


def read_journal(path: Path) -> list[Line]:
    if not path.exists():
        return []
    lines = []
    for raw in path.read_text().splitlines():
        parts = raw.split()
        if len(parts) == 5:
            lines.append(Line(parts[0], int(parts[1]), int(parts[2]), float(parts[3]), parts[4]))
    return lines


def _state(pid: int) -> str | None:
    """The /proc state letter of ``pid``, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X")


def children(pid: int) -> dict[int, str]:
    """pid -> kind of the runtime processes under supervisor ``pid`` (by process title)."""
    out = subprocess.run(["ps", "-o", "pid=,args=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            title = parts[1]
            for kind in ("worker", "dispatcher", "scheduler"):
                if f"djq: {kind}" in title:
                    found[int(parts[0])] = kind
    return found


@dataclass
class PidLog:
    """What the harness knows of one process: when it was stopped, continued, killed, seen gone."""

    kind: str
    events: list[tuple[float, str]] = field(default_factory=list)
    gone_at: float | None = None

    def frozen_or_dead_after(self, t: float) -> float:
        """When a run started at ``t`` in this process stopped making progress for good."""
        stopped = None
        for at, what in self.events:
            if at < t:
                continue
            if what == "stop":
                stopped = at if stopped is None else stopped
            elif what == "cont":
                stopped = None
            elif what == "kill":
                return stopped if stopped is not None else at
        if stopped is not None:
            return stopped
        return self.gone_at if self.gone_at is not None else float("inf")


class ChaosRun:
    def __init__(self, vendor: str, supervisors: int, seconds: float, tmp: Path, *, seed: int | None = None,
                 fault_gap: tuple[float, float] = (1.0, 3.0)) -> None:
        self.vendor = vendor
        self.supervisors = supervisors
        self.seconds = seconds
        self.tmp = tmp
        self.seed = random.randrange(1 << 30) if seed is None else seed
        self.random = random.Random(self.seed)
        self.fault_gap = fault_gap
        self.journal = tmp / "journal.txt"
        self.faults: Counter[str] = Counter()
        self.enqueued: Counter[str] = Counter()
        self.enqueue_failures = 0
        self.pids: dict[int, PidLog] = {}
        self.runtimes: list[Runtime] = []  # every runtime ever started
        self.slots: list[Runtime | None] = []  # the current runtime of each supervisor slot
        self.stopped: set[int] = set()
        self._restarting: set[int] = set()  # supervisors killed by the injector, which starts them again
        self.restarts = 0
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._threads: list[threading.Thread] = []
        self.errors: list[str] = []
        self.server = None
        self.proxy = None
        self._overrides = None

    # -- setup and teardown -------------------------------------------------------------

    def __enter__(self) -> ChaosRun:
        try:
            return self._setup()
        except BaseException:
            self.__exit__(None, None, None)
            raise

    def _setup(self) -> ChaosRun:
        from django.conf import settings
        from django.core.management import call_command
        from django.db import connections
        from django.test import override_settings

        # Under a directory of its own: the server's user cannot enter pytest's private tmp_path.
        self.server = (PrivatePostgres if self.vendor == "postgresql" else PrivateMariaDB)()
        self.server.setup()
        self.server.start()
        direct = self.server.django_settings("djq_chaos")
        self.proxy = TcpProxy("127.0.0.1", self.server.port)
        self.proxied = {**direct, "PORT": str(self.proxy.port)}
        configured = connections.configure_settings({"default": dict(connections.settings["default"]), ALIAS: direct})
        connections.settings[ALIAS] = configured[ALIAS]
        options = {**json.loads(os.environ.get("DJQ_TEST_OPTIONS", "{}")), "database_alias": ALIAS,
                   **FAST_OPTIONS, **runtime_options(str(self.journal))}
        self._overrides = override_settings(TASKS={**settings.TASKS, ALIAS: {
            "BACKEND": "djq.backend.DjqBackend", "QUEUES": [], "OPTIONS": options}})
        self._overrides.enable()
        call_command("migrate", database=ALIAS, verbosity=0, interactive=False)
        return self

    def __exit__(self, *exc) -> None:
        from django.db import connections

        self._done.set()
        for pid in list(self.stopped):
            _signal(pid, signal.SIGCONT)
        for runtime in self.runtimes:
            runtime.kill()
        for pid in self.pids:
            if alive(pid):
                _signal(pid, signal.SIGKILL)
        try:
            connections[ALIAS].close()
            del connections[ALIAS]  # the next run's server has another port
        except Exception:
            pass
        if self._overrides is not None:
            self._overrides.disable()
        connections.settings.pop(ALIAS, None)
        if self.proxy is not None:
            self.proxy.close()
        if self.server is not None:
            self.server.stop("kill")
            if getattr(self.server, "log_path", None) and self.server.log_path.exists():
                (self.tmp / "server.log").write_text(self.server.log())
            self.server.__exit__(None, None, None)

    # -- runtimes -------------------------------------------------------------------------

    def start_runtime(self, slot: int) -> Runtime:
        databases = json.loads(os.environ["DJQ_TEST_DATABASES"])
        databases = {"default": databases["default"], ALIAS: self.proxied}
        runtime = Runtime(ALIAS, tmp=self.tmp, options=runtime_options(str(self.journal)), databases=databases,
                          name=f"supervisor-{slot}.{len(self.runtimes)}")
        with self._lock:
            self.runtimes.append(runtime)
            runtime.start()
            while len(self.slots) <= slot:
                self.slots.append(None)
            self.slots[slot] = runtime
            self.pids[runtime.pid] = PidLog("supervisor")
        return runtime

    def run(self) -> None:
        for slot in range(self.supervisors):
            self.start_runtime(slot)
        for runtime in list(self.slots):
            wait_until(lambda r=runtime: len(children(r.pid)) >= 4, 60, "the runtime's children to start")
        for target in (self._monitor, self._workload, self._inject):
            thread = threading.Thread(target=self._guard, args=(target,), daemon=True, name=target.__name__)
            thread.start()
            self._threads.append(thread)
        deadline = time.monotonic() + self.seconds
        while time.monotonic() < deadline and not self.errors:
            time.sleep(0.5)

    def _guard(self, target) -> None:
        try:
            target()
        except Exception as exc:  # a harness bug: report it instead of dying silently
            import traceback

            self.errors.append(f"{target.__name__}: {traceback.format_exc()}")
            raise exc

    # -- the monitor --------------------------------------------------------------------

    def _monitor(self) -> None:
        while True:
            with self._lock:
                current = [r for r in self.slots if r is not None]
            for slot, runtime in enumerate(current):
                if not runtime.alive() and not self._done.is_set() and runtime.pid not in self._restarting:
                    # `djq start` exits when the database is down as it starts;
                    # a service manager starts it again, and so does this.
                    self.restarts += 1
                    self._done.wait(1.0)
                    if not self._done.is_set():
                        self.start_runtime(slot)
                    continue
                if runtime.alive():
                    for pid, kind in children(runtime.pid).items():
                        with self._lock:
                            self.pids.setdefault(pid, PidLog(kind))
            now = time.time()
            with self._lock:
                for pid, log in self.pids.items():
                    if log.gone_at is None and not alive(pid):
                        log.gone_at = now
            if self._done.is_set() and all(log.gone_at is not None for log in self.pids.values()):
                return
            time.sleep(0.2)

    # -- the workload -------------------------------------------------------------------

    def _workload(self) -> None:
        from django.db import connections
        from django.utils import timezone

        from tests.chaos import tasks

        path = str(self.journal)
        rnd = random.Random(self.seed + 1)
        keys = ["a", "b", "c"]
        while not self._done.is_set():
            if self.enqueued.total() % 50 == 0 and self._backlog() > MAX_BACKLOG:
                self._done.wait(1.0)  # the runtimes fell behind (faults, a loaded machine): let them catch up
                continue
            kind = rnd.choices(["plain", "scheduled", "limited_one", "limited_two", "flaky"],
                               weights=[40, 15, 15, 10, 20])[0]
            seconds = round(rnd.uniform(0, 0.5), 3)
            try:
                if kind == "plain":
                    tasks.plain.using(backend=ALIAS).enqueue(path, seconds)
                elif kind == "scheduled":
                    due = timezone.now() + timedelta(seconds=rnd.uniform(0.5, 4))
                    tasks.plain.using(backend=ALIAS, run_after=due).enqueue(path, seconds)
                elif kind == "limited_one":
                    tasks.limited_one.using(backend=ALIAS).enqueue(path, rnd.choice(keys), seconds)
                elif kind == "limited_two":
                    tasks.limited_two.using(backend=ALIAS).enqueue(path, rnd.choice(keys), seconds)
                else:
                    tasks.flaky.using(backend=ALIAS).enqueue(path, rnd.randint(0, 2), seconds)
                self.enqueued[kind] += 1
            except Exception:
                self.enqueue_failures += 1
                connections[ALIAS].close()
                time.sleep(0.2)
            time.sleep(rnd.uniform(0.05, 0.25))
        connections[ALIAS].close()

    def _backlog(self) -> int:
        from django.db import connections

        from djq.models import Job

        try:
            return Job.objects.using(ALIAS).filter(state__in=["ready", "scheduled", "blocked", "claimed"]).count()
        except Exception:
            connections[ALIAS].close()
            return 0

    # -- faults -------------------------------------------------------------------------

    def _victim(self, kind: str) -> int | None:
        with self._lock:
            current = [r for r in self.slots if r is not None and r.alive()]
        self.random.shuffle(current)
        for runtime in current:
            if kind == "supervisor":
                return runtime.pid
            pids = [p for p, k in children(runtime.pid).items() if k == kind and alive(p)]
            if pids:
                return self.random.choice(pids)
        return None

    def _note(self, pid: int, what: str) -> None:
        with self._lock:
            self.pids.setdefault(pid, PidLog("?")).events.append((time.time(), what))

    def _inject(self) -> None:
        while not self._done.is_set():
            self._done.wait(self.random.uniform(*self.fault_gap))
            if self._done.is_set():
                return
            fault = self.random.choice(FAULTS)
            what, _, kind = fault.partition("_")
            if what in ("kill", "stop"):
                pid = self._victim(kind)
                if pid is None:
                    continue
                self.faults[fault] += 1
                if what == "kill":
                    self._note(pid, "kill")
                    _signal(pid, signal.SIGKILL)
                    if kind == "supervisor":
                        self._restart_supervisor(pid)
                else:
                    self._note(pid, "stop")
                    self.stopped.add(pid)
                    _signal(pid, signal.SIGSTOP)
                    self._done.wait(self.random.uniform(0.5, THRESHOLD * 2.5))
                    if alive(pid):  # else its supervisor killed it meanwhile: it never ran again
                        self._note(pid, "cont")
                    _signal(pid, signal.SIGCONT)
                    self.stopped.discard(pid)
            elif fault == "outage":
                self.faults[fault] += 1
                self.proxy.cut()
                self._done.wait(self.random.uniform(THRESHOLD + 0.5, THRESHOLD + 3))
                self.proxy.restore()
            else:
                self.faults[fault] += 1
                self.server.restart("fast" if fault.endswith("fast") else "immediate")

    def _restart_supervisor(self, pid: int) -> None:
        with self._lock:
            slot = next(i for i, r in enumerate(self.slots) if r is not None and r.pid == pid)
            self._restarting.add(pid)
        wait_until(lambda: not alive(pid), 10, "the killed supervisor to go")
        self._done.wait(self.random.uniform(0.2, 2))
        self.start_runtime(slot)

    # -- the end of a run -----------------------------------------------------------------

    def settle(self, timeout: float = 180) -> None:
        """Stop faults and workload, let the runtimes finish every job, stop them, wait for every process."""
        from django.db import DatabaseError, connections

        from djq.models import Job

        self._done.set()
        for thread in self._threads:
            if thread.name != "_monitor":
                thread.join(60)
        for pid in list(self.stopped):
            _signal(pid, signal.SIGCONT)
        self.proxy.restore()
        if not self.server.running:
            self.server.start()
        with self._lock:
            for slot, runtime in enumerate(self.slots):
                if runtime is not None and not runtime.alive():
                    self.start_runtime(slot)

        def quiet():
            try:
                return not Job.objects.using(ALIAS).filter(recurring_key__isnull=True).exclude(
                    state__in=TERMINAL).exists()
            except DatabaseError:
                connections[ALIAS].close()
                return False

        connections[ALIAS].close()

        wait_until(quiet, timeout, "every job to end", interval=0.5)
        for runtime in self.slots:
            if runtime is not None and runtime.alive():
                runtime.send(signal.SIGTERM)
        for runtime in self.slots:
            if runtime is not None:
                runtime.wait_exit(60)
        wait_until(lambda: all(not alive(p) for p in self.pids), 30, "every runtime process to exit")
        with self._lock:
            now = time.time()
            for log in self.pids.values():
                if log.gone_at is None:
                    log.gone_at = now
        self._threads[0].join(10)

    def violations(self) -> list[str]:
        from django.db import connections

        from djq.models import Job, RecurringExecution, Semaphore

        connections[ALIAS].close()
        found = list(self.errors)
        jobs = list(Job.objects.using(ALIAS).values("id", "state", "attempts", "recurring_key", "task_path",
                                                    "process_id"))
        lines = read_journal(self.journal)
        runs = self._runs(lines)
        for job in jobs:
            state, attempts = job["state"], job["attempts"] or []
            if state not in TERMINAL | WAITING:
                found.append(f"job {job['id']} left {state} (process {job['process_id']})")
            if state in WAITING and job["recurring_key"] is None:
                found.append(f"job {job['id']} still {state} after settling")
            successes = [i for i, a in enumerate(attempts) if a.get("error") is None]
            if state == "finished":
                if successes != [len(attempts) - 1]:
                    found.append(f"job {job['id']} finished with successful attempts at {successes} of {len(attempts)}")
                if not any(r[2] < float("inf") and r[3] for r in runs.get(job["id"], [])):
                    found.append(f"job {job['id']} finished without a complete run in the journal")
            elif state == "failed" and successes:
                found.append(f"job {job['id']} failed after a successful attempt ({successes} of {len(attempts)})")
        for job_id, job_runs in runs.items():
            latest = None  # the run that ends last among those started so far
            for start, pid, end, _complete in sorted(job_runs):
                if latest is not None and start < latest[2]:
                    found.append(f"job {job_id} ran twice at once: in pid {latest[1]} from {latest[0]:.3f} to "
                                 f"{latest[2]:.3f}, in pid {pid} from {start:.3f}")
                if latest is None or end > latest[2]:
                    latest = (start, pid, end)
        by_key: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for job_id, job_runs in runs.items():
            for start, _pid, end, _complete in job_runs:
                key = self._keys.get(job_id)
                if key and key != "-":
                    by_key[key].append((start, end))
        for key, spans in by_key.items():
            limit = int(key.rsplit("/", 1)[1])
            events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans], key=lambda x: (x[0], x[1]))
            level = 0
            for at, step in events:
                level += step
                if level > limit:
                    found.append(f"key {key}: {level} runs at once at {at:.3f}, limit {limit}")
                    break
        for sem in Semaphore.objects.using(ALIAS).values("key", "value", "limit"):
            if sem["value"] != sem["limit"]:
                found.append(f"semaphore {sem['key']} holds {sem['limit'] - sem['value']} slots with every job ended")
        if Job.objects.using(ALIAS).filter(state="blocked").exists():
            found.append("blocked jobs left with every slot free")
        executions = list(RecurringExecution.objects.using(ALIAS).values("task_key", "run_at", "job_id"))
        slots = Counter((e["task_key"], e["run_at"]) for e in executions)
        found += [f"recurring slot {slot} fired {n} times" for slot, n in slots.items() if n > 1]
        fired = Counter(e["job_id"] for e in executions if e["job_id"] is not None)
        found += [f"job {j} belongs to {n} recurring slots" for j, n in fired.items() if n > 1]
        recurring_jobs = {j["id"] for j in jobs if j["recurring_key"]}
        found += [f"recurring job {j} has no slot" for j in recurring_jobs - set(fired)]
        left = [pid for pid in self.pids if alive(pid)]
        if left:
            found.append(f"processes left behind: {left}")
        self._stats = {"jobs": len(jobs), "states": dict(Counter(j["state"] for j in jobs)),
                       "runs": sum(len(r) for r in runs.values()), "recurring_jobs": len(recurring_jobs)}
        return found

    def _runs(self, lines: list[Line]) -> dict[int, list[tuple[float, int, float, bool]]]:
        """job -> [(start, pid, end, complete)]: a start pairs with the next end of the same job in the same pid."""
        self._keys: dict[int, str] = {}
        open_runs: dict[tuple[int, int], float] = {}
        runs: dict[int, list[tuple[float, int, float, bool]]] = defaultdict(list)
        for line in sorted(lines, key=lambda ln: ln.at):
            self._keys[line.job] = line.key
            if line.event == "start":
                if (line.job, line.pid) in open_runs:  # a run in that process that never ended
                    start = open_runs.pop((line.job, line.pid))
                    runs[line.job].append((start, line.pid, self._cut(line.pid, start), False))
                open_runs[(line.job, line.pid)] = line.at
            else:
                start = open_runs.pop((line.job, line.pid), None)
                if start is not None:
                    runs[line.job].append((start, line.pid, line.at, True))
        for (job, pid), start in open_runs.items():
            runs[job].append((start, pid, self._cut(pid, start), False))
        return runs

    def _cut(self, pid: int, start: float) -> float:
        log = self.pids.get(pid)
        return log.frozen_or_dead_after(start) if log is not None else float("inf")

    def summary(self, violations: list[str]) -> dict:
        return {"vendor": self.vendor, "supervisors": self.supervisors, "seconds": self.seconds, "seed": self.seed,
                **getattr(self, "_stats", {}), "enqueued": dict(self.enqueued),
                "enqueue_failures": self.enqueue_failures, "faults": dict(self.faults),
                "faults_total": sum(self.faults.values()), "processes_seen": len(self.pids),
                "runtime_restarts_after_failed_start": self.restarts,
                "violations": len(violations), "violation_samples": violations[:20]}


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
