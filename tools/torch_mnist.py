"""Train the CLI's default MNIST job in PyTorch, for comparison.

Reads a split written by export-mnist-split.js and trains 784-128-10 ReLU
with SGD (momentum 0.9, weight decay 5e-4), OneCycleLR (max_lr 0.1) stepped
per batch, batch 64 and 10 epochs, then prints the test accuracy and the
training time. Needs a Python with torch and numpy, e.g. Debian's
python3-torch: /usr/bin/python3 tools/torch_mnist.py mnist-split-0.bin 0
"""

import sys
import time

import numpy as np
import torch

TRAIN, TEST, PIXELS = 8000, 2000, 784


def read_split(path):
    data = np.fromfile(path, dtype=np.uint8)
    sizes = [(TRAIN * PIXELS, np.float32), (TRAIN, np.int32),
             (TEST * PIXELS, np.float32), (TEST, np.int32)]
    arrays, offset = [], 0
    for count, dtype in sizes:
        nbytes = count * np.dtype(dtype).itemsize
        arrays.append(np.frombuffer(data[offset:offset + nbytes].tobytes(), dtype=dtype))
        offset += nbytes
    x_train, y_train, x_test, y_test = arrays
    return x_train.reshape(TRAIN, PIXELS), y_train, x_test.reshape(TEST, PIXELS), y_test


def main():
    path = sys.argv[1]
    torch.manual_seed(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    x_train, y_train, x_test, y_test = read_split(path)
    model = torch.nn.Sequential(
        torch.nn.Linear(PIXELS, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    batch, epochs = 64, 10
    steps_per_epoch = (TRAIN + batch - 1) // batch
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=0.1, epochs=epochs, steps_per_epoch=steps_per_epoch)
    x, y = torch.tensor(x_train), torch.tensor(y_train).long()

    started = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(TRAIN)
        for step in range(steps_per_epoch):
            rows = order[step * batch:(step + 1) * batch]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[rows]), y[rows])
            loss.backward()
            optimizer.step()
            scheduler.step()
    seconds = time.perf_counter() - started

    with torch.no_grad():
        predicted = model(torch.tensor(x_test)).argmax(1).numpy()
    print(f"test accuracy {100 * (predicted == y_test).mean():.2f}%, trained in {seconds:.2f}s "
          f"(torch {torch.__version__}, {torch.get_num_threads()} threads)")


if __name__ == "__main__":
    main()
