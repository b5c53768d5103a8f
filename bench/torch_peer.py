"""The bench's PyTorch peer: the workloads of DESIGN.md in PyTorch, run on request.

`bench/torch.ts` starts this script (Debian's /usr/bin/python3 with python3-torch; a comparison
tool, never a dependency of the project) and sends one command a line on stdin:

    <workload> <steps>     run <steps> training steps, print the seconds they took
    seed004                run seed 004's training skeleton, print seconds and peak RSS (MB)
    quit

Each workload warms up for 2 s the first time it is asked for. Threads come from --threads.
"""
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

torch.set_num_threads(int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else 1)
torch.manual_seed(0)


def mlp():
    return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))


def cnn(batch_norm):
    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1)] + \
            ([nn.BatchNorm2d(c_out)] if batch_norm else []) + [nn.ReLU(), nn.MaxPool2d(2)]
    return nn.Sequential(*block(1, 8), *block(8, 16), nn.Flatten(), nn.Linear(784, 10))


def trainer(model, optimizer, x, y):
    def step():
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss.item()
    return step


def make(name):
    if name == "matmul":
        a, b = torch.randn(512, 512), torch.randn(512, 512)
        return lambda: torch.matmul(a, b)
    if name == "mlp":
        model = mlp()
        return trainer(model, torch.optim.SGD(model.parameters(), lr=0.01),
                       torch.randn(64, 784), torch.randint(0, 10, (64,)))
    model = cnn(name == "cnn-bn")
    return trainer(model, torch.optim.Adam(model.parameters(), lr=1e-3),
                   torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,)))


def seed004():
    """Seed 004's skeleton as written there: 6,300 steps of a 10-128-128-1 sigmoid MLP."""
    from torch.utils.data import DataLoader, TensorDataset
    start = time.perf_counter()
    X = torch.linspace(0, 1, 10000).reshape(-1, 10)
    Y = torch.sigmoid(X).mean(dim=1, keepdim=True) + 0.05 * torch.rand(X.shape[0], 1)
    dataloader = DataLoader(TensorDataset(X, Y), batch_size=16)
    model = nn.Sequential(nn.Linear(10, 128), nn.Sigmoid(), nn.Linear(128, 128), nn.Sigmoid(),
                          nn.Linear(128, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.MSELoss()
    for _ in range(100):
        for x, y in dataloader:
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    with torch.no_grad():
        loss = float(criterion(model(X), Y))
    return time.perf_counter() - start, loss


def peak_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


workloads = {}
for line in sys.stdin:
    words = line.split()
    if not words or words[0] == "quit":
        break
    if words[0] == "seed004":
        seconds, loss = seed004()
        print(f"{seconds} {peak_rss_mb()} {loss}", flush=True)
        continue
    name, steps = words[0], int(words[1])
    if name not in workloads:
        workloads[name] = make(name)
        warm_until = time.perf_counter() + 2
        while time.perf_counter() < warm_until:
            workloads[name]()
    run = workloads[name]
    start = time.perf_counter()
    for _ in range(steps):
        run()
    print(time.perf_counter() - start, flush=True)
