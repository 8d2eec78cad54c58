"""Data-parallel speed: samples per second of a CIFAR-size CNN with batch
norm (5 conv-BN-ReLU blocks, 3x32x32, global batch 128, SGD with momentum)
in 1 and 2 processes of one thread each, gradlab (DistributedDataParallel
on MPI) beside PyTorch (DistributedDataParallel on gloo).

Each configuration runs as its own set of processes, and the rounds
alternate between the four configurations (gradlab 1, gradlab 2, PyTorch 1,
PyTorch 2), so that the machine's drift reaches all of them alike; each
configuration's best round counts. Issue 21's target: gradlab in 2
processes reaches at least 1.7x the samples per second of 1 process.

    python benchmarks/bench_distributed.py [--rounds R] [--steps S]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "..", "src")
BATCH = 128
TARGET = 1.7


def _net(nn):
    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]

    return nn.Sequential(*block(3, 32), *block(32, 32), nn.MaxPool2d(2), *block(32, 64),
                         *block(64, 64), nn.MaxPool2d(2), *block(64, 128), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(128, 10))


def _worker(framework: str, steps: int, rank: int, world: int, port: int) -> None:
    """One process: time ``steps`` training steps on its share of each batch."""
    import numpy as np

    if framework == "gradlab":
        sys.path.insert(0, SRC)
        import gradlab as lib
        import gradlab.distributed as dist

        dist.init_process_group()
        rank, world = dist.get_rank(), dist.get_world_size()
        wrap = lib.nn.parallel.DistributedDataParallel
        barrier = dist.barrier
    else:
        import torch as lib
        import torch.distributed as dist

        lib.set_num_threads(1)
        if world > 1:
            dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                    world_size=world)
        wrap = lib.nn.parallel.DistributedDataParallel if world > 1 else (lambda m: m)
        barrier = dist.barrier if world > 1 else (lambda: None)
    lib.manual_seed(0)
    model = _net(lib.nn)
    ddp = wrap(model)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    share = BATCH // world
    rng = np.random.default_rng(rank)
    x = lib.tensor(rng.standard_normal((share, 3, 32, 32)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, share))
    loss_fn = lib.nn.functional.cross_entropy

    def step():
        opt.zero_grad()
        loss_fn(ddp(x), y).backward()
        opt.step()

    for _ in range(2):
        step()
    barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    barrier()
    seconds = (time.perf_counter() - start) / steps
    if rank == 0:
        print(json.dumps({"samples_per_second": BATCH / seconds}), flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(framework: str, world: int, steps: int) -> float:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               NUMBA_NUM_THREADS="1")
    me = [sys.executable, os.path.abspath(__file__), "--worker", framework, "--steps", str(steps)]
    if framework == "gradlab":
        mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
        commands = [[mpiexec if os.path.exists(mpiexec) else "mpiexec", "-n", str(world), *me]]
    else:
        port = _free_port()
        commands = [[*me, "--rank", str(r), "--world", str(world), "--port", str(port)]
                    for r in range(world)]
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True, env=env) for c in commands]
    outputs = [p.communicate(timeout=900)[0] for p in procs]
    if any(p.returncode for p in procs):
        raise RuntimeError(f"{framework} with {world} processes failed")
    line = next(line for out in outputs for line in out.splitlines() if line.startswith("{"))
    return json.loads(line)["samples_per_second"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--worker", choices=("gradlab", "torch"))
    parser.add_argument("--rank", type=int, default=0)
    parser.add_argument("--world", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    if args.worker:
        _worker(args.worker, args.steps, args.rank, args.world, args.port)
        return
    configs = [("gradlab", 1), ("gradlab", 2), ("torch", 1), ("torch", 2)]
    best = {c: 0.0 for c in configs}
    for r in range(args.rounds):
        for c in configs if r % 2 == 0 else configs[::-1]:
            best[c] = max(best[c], _run(*c, args.steps))
    print(f"CIFAR-size CNN with batch norm, global batch {BATCH}, 1 thread per process, "
          f"best of {args.rounds} rounds (samples/s)")
    print(f"{'':10}{'1 process':>12}{'2 processes':>14}{'scaling':>10}")
    for fw in ("gradlab", "torch"):
        one, two = best[(fw, 1)], best[(fw, 2)]
        print(f"{fw:10}{one:12.1f}{two:14.1f}{two / one:9.2f}x")
    scaling = best[("gradlab", 2)] / best[("gradlab", 1)]
    print(f"gradlab 2-process scaling {scaling:.2f}x (target >= {TARGET}x: "
          f"{'met' if scaling >= TARGET else 'not met'}); gradlab / PyTorch at 2 processes: "
          f"{best[('torch', 2)] / best[('gradlab', 2)]:.2f}x the time per sample")


if __name__ == "__main__":
    main()
