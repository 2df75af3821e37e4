"""The worker side of many runs (``sim.batch``): a task, the run it does, and where it runs.

A :class:`Task` is one run, small enough to pickle in microseconds; :func:`work` runs it in a
worker that stays warm between tasks (each set of group choices composed once per process, the
row's values set on that config in place and put back). :func:`executor` says where tasks run
and hands back their results **as they finish**, so that the batch stores each finished run at
once (a killed batch loses only the runs in flight):

* ``loky``: joblib's reusable local processes (one task at a time);
* ``ray``: tasks on a Ray cluster (``ray.remote`` and ``ray.wait``: joblib's Ray backend returns
  only a whole list, so it cannot store runs as they finish); the cluster is the one
  ``ray.init()`` finds (``RAY_ADDRESS``) or a local one;
* ``sequential``: this process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass

from omegaconf import DictConfig, OmegaConf

from sim.api import compose
from sim.collect import _flatten  # the flattening of gbsim-collect: same columns

__all__ = ["BACKENDS", "Task", "applied", "executor", "work"]

BACKENDS = ("loky", "ray", "sequential")


@dataclass(frozen=True)
class Task:
    """One run as a worker receives it: small, so that it pickles in microseconds."""

    key: str  # hash of the composed config, values and seed (the run's name in the store)
    groups: tuple[str, ...]  # the overrides Hydra composes (base, scenario, group columns)
    values: tuple[tuple[str, object], ...]  # key=value set with OmegaConf after composing
    seed: int
    series: tuple[str, ...]


@contextmanager
def applied(base: DictConfig, values):
    """``base`` with each ``key=value`` set, restored on exit; read-only meanwhile.

    Copying a composed config costs ~40 ms (OmegaConf's deepcopy), most of a run's overhead:
    setting a few values and putting them back costs microseconds. The config is read-only
    while lent out, so a run that tried to change it would fail loudly rather than leak into
    the next run.
    """
    saved = []
    try:
        for key, value in values:
            old = OmegaConf.select(base, key)
            saved.append((key, OmegaConf.to_container(old) if OmegaConf.is_config(old) else old))
            OmegaConf.update(base, key, value, merge=False, force_add=False)
        OmegaConf.set_readonly(base, True)
        yield base
    finally:
        OmegaConf.set_readonly(base, None)
        for key, old in reversed(saved):
            OmegaConf.update(base, key, old, merge=False)


_BASES: dict[tuple, DictConfig] = {}  # per worker process: each set of group choices composed once
# The worker's CPU clock when its last task ended: a task is charged the CPU spent since then
# (a fresh worker's first task: its start, imports and kernels too; a warm worker's: only
# what it did since its last task, in this batch or an earlier one).
_CPU_MARK = 0.0


def work(task: Task) -> dict:
    """Run one task in a worker; returns its summary, series and timings (seconds)."""
    global _CPU_MARK
    from sim.model import GroupBuyingMarket
    from sim.records import summarise

    t0 = time.perf_counter()
    if task.groups not in _BASES:
        _BASES[task.groups] = compose(list(task.groups))
    values = (*task.values, ("seed", task.seed), ("progress", False))
    with applied(_BASES[task.groups], values) as cfg:
        t1, c1 = time.perf_counter(), time.process_time()
        model = GroupBuyingMarket(cfg)
        t2 = time.perf_counter()
        model.run()
        t3, c3 = time.perf_counter(), time.process_time()
        tables = model.recorder.tables()
        summary = summarise(model, tables)
        platforms = set(cfg.platforms)
    flat, per_platform = _flatten(summary, platforms)
    flat.pop("seed", None)
    flat.update({"wall_seconds.setup": round(t2 - t1, 3),  # as run() records them
                 "wall_seconds.simulate": round(t3 - t2, 3)})
    t4, c4 = time.perf_counter(), time.process_time()
    since, _CPU_MARK = c4 - _CPU_MARK, c4
    return {"key": task.key, "flat": flat, "per_platform": per_platform,
            "series": {s: tables[s] for s in task.series},
            "seconds": {"prepare": t1 - t0, "setup": t2 - t1, "simulate": t3 - t2,
                        "summarise": t4 - t3},
            # CPU seconds: what the overhead is measured in when other work shares the cores
            # (wall clocks then run on for everyone).
            "cpu": {"since_last": since, "model": c3 - c1, "summary": c4 - c3},
            "pid": os.getpid()}


def _ray_tasks(workers: int) -> Callable[[Iterable[Task]], Iterator[dict]]:
    """Tasks as Ray remote calls, at most ``workers`` in flight (-1: as many as the cluster's
    CPUs), results in the order they finish."""
    import ray

    if not ray.is_initialized():
        ray.init(log_to_driver=False)  # RAY_ADDRESS's cluster, else a local one
    remote = ray.remote(num_cpus=1)(work)
    limit = int(ray.cluster_resources().get("CPU", 1)) if workers < 0 else workers

    def run(tasks: Iterable[Task]) -> Iterator[dict]:
        pending, it = [], iter(tasks)
        for t in it:
            pending.append(remote.remote(t))
            if len(pending) >= limit:
                break
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
            nxt = next(it, None)
            if nxt is not None:
                pending.append(remote.remote(nxt))
    return run


def executor(backend: str, workers: int):
    """(a context to run in, a function from tasks to their results as they finish)."""
    from joblib import Parallel, delayed, parallel_config

    if backend == "ray":
        return nullcontext(), _ray_tasks(workers)
    if backend == "sequential" or workers <= 1:
        return nullcontext(), lambda tasks: (work(t) for t in tasks)
    # One task at a time: runs take ~0.5 s or more, so batching would only delay the bar and
    # the stamps; the workers are loky's reusable ones, warm from one call to the next.
    parallel = Parallel(batch_size=1, return_as="generator_unordered")
    return (parallel_config(backend="loky", n_jobs=workers),
            lambda tasks: parallel(delayed(work)(t) for t in tasks))
