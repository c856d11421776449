"""Step 08 of the ladder in PyTorch, as the reference for `npm run bench`.

The same recipe as lib/recipes.ts step 8: the `final` net, Adam lr 0.01 betas (0.7, 0.9) eps 1e-8,
OneCycleLR max 0.01 (cycle_momentum False, other defaults), batch 256, one epoch with the last
partial batch kept, then the 10,000 test images in batches of 1000. Data are read from the four
MNIST .gz files in MNIST_DIR, normalised once and kept as tensors (the device data path). The
clock covers training plus the test pass, after one untimed warm-up run on 2,048 images.
TORCH_DEVICE (default cpu; e.g. cuda) is where the data, the net and the training live; the seed's
initial weights and batch order are drawn on the CPU, so they are the same on every device.
Prints one JSON line: {"seconds", "testAccuracy", "threads", "torch", "device"}.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load_split(mnist_dir, prefix):
    images = read_idx(os.path.join(mnist_dir, f"{prefix}-images-idx3-ubyte.gz"), 16)
    labels = read_idx(os.path.join(mnist_dir, f"{prefix}-labels-idx1-ubyte.gz"), 8)
    x = torch.from_numpy(images.astype(np.float32).reshape(-1, 1, 28, 28) / 255.0)
    return (x - 0.1307) / 0.3081, torch.from_numpy(labels.astype(np.int64))


class Final(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 24, 5)
        self.c2 = nn.Conv2d(24, 32, 3)
        self.f1 = nn.Linear(800, 256)
        self.f2 = nn.Linear(256, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.c1(x), 2))
        x = F.relu(F.max_pool2d(self.c2(x), 2))
        x = F.relu(self.f1(torch.flatten(x, 1)))
        return F.log_softmax(self.f2(x), dim=1)


def run(train_x, train_y, test_x, test_y, seed):
    torch.manual_seed(seed)
    model = Final().to(train_x.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.7, 0.9), eps=1e-8)
    batch = 256
    steps = (len(train_x) + batch - 1) // batch
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.01, total_steps=steps, cycle_momentum=False)
    order = torch.randperm(len(train_x)).to(train_x.device)
    model.train()
    for step in range(steps):
        index = order[step * batch:(step + 1) * batch]
        optimizer.zero_grad()
        loss = F.nll_loss(model(train_x[index]), train_y[index])
        loss.backward()
        optimizer.step()
        scheduler.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(test_x), 1000):
            correct += (model(test_x[start:start + 1000]).argmax(1) == test_y[start:start + 1000]).sum().item()
    return 100.0 * correct / len(test_x)


def main():
    mnist_dir = os.environ.get("MNIST_DIR")
    if not mnist_dir:
        sys.exit("set MNIST_DIR to the folder holding the four MNIST .gz files")
    threads = int(os.environ.get("TORCH_THREADS", "2"))
    torch.set_num_threads(threads)
    device = torch.device(os.environ.get("TORCH_DEVICE") or "cpu")
    train_x, train_y = (t.to(device) for t in load_split(mnist_dir, "train"))
    test_x, test_y = (t.to(device) for t in load_split(mnist_dir, "t10k"))
    run(train_x[:2048], train_y[:2048], test_x[:1000], test_y[:1000], seed=0)  # warm-up, not timed
    started = time.perf_counter()
    accuracy = run(train_x, train_y, test_x, test_y, seed=1)  # .item() waits for the device
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "testAccuracy": accuracy, "threads": threads, "torch": torch.__version__, "device": str(device)}))


if __name__ == "__main__":
    main()
