"""Any step of the ladder in PyTorch, as the reference for `npm run bench`.

Usage: python3 bench/pytorch_reference.py [RECIPE.json | -] [--describe | --fields]

The recipe is JSON: what `JSON.stringify(recipeForStep(n))` gives in lib/recipes.ts, plus the
optional run settings "seed" (default 1), "threads" (default: every core this process may use, as
the bench), "trainCount" and "testCount" (default: the whole splits; the first images in file
order). It is read from the file named, or from stdin when the argument is '-' or missing.

It trains the recipe as docs/recipes.md says: the net as a description (lib/nets.ts NetSpec: "net" is
{"convs": [{"out", "kernel", "pool": "none"|"after-relu"|"before-relu", "relu"}, ...], "dropout2d",
"fc", "dropout"}; bench/pytorch-reference.ts turns the ladder's net names into their descriptions),
Adadelta or Adam with the recipe's hyperparameters, StepLR stepped after every epoch or OneCycleLR
(cycle_momentum off) after every batch, the recipe's batch size and epochs, early stopping at the
first evaluated epoch whose test accuracy reaches stopAtAccuracy, test accuracy after every epoch
or at the end, test passes in batches of 1000. Data paths:
- 'per-sample' (steps 1-3): a Dataset that converts and normalises one image at a time, read by a
  DataLoader (shuffle each epoch when shuffle is 'every-epoch', drop_last as the recipe says);
- 'device' (steps 4-8): both splits normalised once and kept as tensors; with shuffle 'once' the
  training set is permuted once with a fixed seed (SAVED_ORDER_SEED, torch's generator: the same
  rule as lib/device-data.ts, not the same permutation), and every epoch reads contiguous slices.
MNIST is read from the four .gz files in MNIST_DIR. Setup (data, net, optimizer, loader) is not
timed; the clock covers the epochs and the test passes, after one untimed warm-up run of one epoch
on batchSize * 8 + (trainCount % batchSize) training images and 1000 test images (as
lib/measure.ts's warmUp). Prints one JSON line:
{"step", "seconds", "testAccuracy", "epochs", "batchesPerEpoch", "threads", "torch", "device",
"parameters"}.
TORCH_DEVICE (default cpu; e.g. cuda) is where the data, the net and the training live; the seed's
initial weights and the batch order are drawn on the CPU, so they are the same on every device.

--describe prints, without data or training, the batches per epoch and the learning rate of every
optimizer step of a full-length run, from PyTorch's own schedulers stepped as training steps them:
{"step", "batchesPerEpoch", "totalSteps", "learningRates"}.
--fields prints the recipe fields this script reads (needs no torch).
Errors end with one line on stderr: exit 2 for a bad recipe, 3 for missing MNIST files.
"""
import gzip
import json
import os
import sys
import time

SAVED_ORDER_SEED = 0
EVAL_BATCH_SIZE = 1000
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

# Every field read from the recipe, by where it sits; nothing else of the JSON is read.
RECIPE_FIELDS = ["step", "net", "dataPath", "batchSize", "shuffle", "dropLast", "optimizer", "schedule", "epochs", "stopAtAccuracy", "evaluate"]
OPTIMIZER_FIELDS = {"adadelta": ["kind", "lr", "rho", "eps"], "adam": ["kind", "lr", "beta1", "beta2", "eps"]}
SCHEDULE_FIELDS = {
    "step": ["kind", "stepSize", "gamma"],
    "onecycle": ["kind", "maxLr", "pctStart", "anneal", "divFactor", "finalDivFactor", "threePhase"],
}
RUN_FIELDS = ["seed", "threads", "trainCount", "testCount"]
NET_FIELDS = ["convs", "dropout2d", "fc", "dropout"]
CONV_FIELDS = ["out", "kernel", "pool", "relu"]
POOLS = ["none", "after-relu", "before-relu"]


class RecipeError(Exception):
    """A recipe this script cannot run: the message names the field and the allowed values."""


def fail(message, code):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)


def require(obj, fields, where):
    missing = [name for name in fields if name not in obj]
    if missing:
        raise RecipeError(f"the recipe has no {', '.join(where + name for name in missing)}: pass JSON.stringify(recipeForStep(n)) from lib/recipes.ts")


def one_of(value, allowed, field):
    if value not in allowed:
        raise RecipeError(f"{field} must be one of {', '.join(map(str, allowed))}, got {json.dumps(value)}")
    return value


def read_recipe(raw):
    """The fields this script uses, checked; a dict with only those keys (and the run settings)."""
    if not isinstance(raw, dict):
        raise RecipeError("the recipe must be a JSON object")
    require(raw, RECIPE_FIELDS, "")
    read_net(raw["net"])
    one_of(raw["dataPath"], ["per-sample", "device"], "dataPath")
    one_of(raw["shuffle"], ["every-epoch", "once"], "shuffle")
    one_of(raw["evaluate"], ["every-epoch", "end"], "evaluate")
    optimizer, schedule = raw["optimizer"], raw["schedule"]
    if not isinstance(optimizer, dict) or not isinstance(schedule, dict):
        raise RecipeError("optimizer and schedule must be objects")
    require(optimizer, ["kind"], "optimizer.")
    require(schedule, ["kind"], "schedule.")
    one_of(optimizer["kind"], list(OPTIMIZER_FIELDS), "optimizer.kind")
    one_of(schedule["kind"], list(SCHEDULE_FIELDS), "schedule.kind")
    require(optimizer, OPTIMIZER_FIELDS[optimizer["kind"]], "optimizer.")
    require(schedule, SCHEDULE_FIELDS[schedule["kind"]], "schedule.")
    for field in ["batchSize", "epochs"] + [f for f in RUN_FIELDS if f in raw]:
        if not isinstance(raw[field], int) or isinstance(raw[field], bool) or raw[field] < (0 if field == "seed" else 1):
            raise RecipeError(f"{field} must be a whole number{'' if field == 'seed' else ' >= 1'}, got {json.dumps(raw[field])}")
    recipe = {name: raw[name] for name in RECIPE_FIELDS}
    recipe["optimizer"] = {name: optimizer[name] for name in OPTIMIZER_FIELDS[optimizer["kind"]]}
    recipe["schedule"] = {name: schedule[name] for name in SCHEDULE_FIELDS[schedule["kind"]]}
    recipe["seed"] = raw.get("seed", 1)
    smoothing = raw.get("labelSmoothing", 0)
    if not isinstance(smoothing, (int, float)) or isinstance(smoothing, bool) or not 0 <= smoothing < 1:
        raise RecipeError(f"labelSmoothing must be a number in [0, 1), got {json.dumps(smoothing)}")
    recipe["labelSmoothing"] = float(smoothing)
    for name in ["threads", "trainCount", "testCount"]:
        recipe[name] = raw.get(name)
    return recipe


def read_net(net):
    """Checks a net description (lib/nets.ts NetSpec); a name alone is refused, naming what to give."""
    if not isinstance(net, dict):
        raise RecipeError(f"net must be a description object with {', '.join(NET_FIELDS)}, got {json.dumps(net)}: "
                          "bench/pytorch-reference.ts turns a ladder net's name into its description")
    require(net, NET_FIELDS, "net.")
    if not isinstance(net["convs"], list) or not 1 <= len(net["convs"]) <= 3:
        raise RecipeError("net.convs must list 1 to 3 convolutions")
    for i, conv in enumerate(net["convs"]):
        require(conv, CONV_FIELDS, f"net.convs[{i}].")
        one_of(conv["pool"], POOLS, f"net.convs[{i}].pool")
        for field in ["out", "kernel"]:
            if not isinstance(conv[field], int) or isinstance(conv[field], bool) or conv[field] < 1:
                raise RecipeError(f"net.convs[{i}].{field} must be a whole number >= 1, got {json.dumps(conv[field])}")
    if not isinstance(net["fc"], int) or net["fc"] < 1:
        raise RecipeError(f"net.fc must be a whole number >= 1, got {json.dumps(net['fc'])}")


# --- everything below needs torch -------------------------------------------------------------

def torch_modules():
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    return np, torch, nn, F


def build_net(spec):
    """Any net description, with PyTorch's default init: layers are created in the order c1, c2, ...,
    f1, f2, so a seed draws the same initial weights as the ladder's hand-written nets would."""
    _, torch, nn, F = torch_modules()

    class SpecNet(nn.Module):
        def __init__(self):
            super().__init__()
            channels, side = 1, 28
            self.convs = []
            for i, conv in enumerate(spec["convs"]):
                layer = nn.Conv2d(channels, conv["out"], conv["kernel"])
                setattr(self, f"c{i + 1}", layer)
                self.convs.append((layer, conv))
                channels, side = conv["out"], side - conv["kernel"] + 1
                if conv["pool"] != "none":
                    side //= 2
            self.d1 = nn.Dropout2d(spec["dropout2d"]) if spec["dropout2d"] > 0 else nn.Identity()
            self.f1 = nn.Linear(channels * side * side, spec["fc"])
            self.d2 = nn.Dropout(spec["dropout"]) if spec["dropout"] > 0 else nn.Identity()
            self.f2 = nn.Linear(spec["fc"], 10)

        def forward(self, x):
            for layer, conv in self.convs:
                x = layer(x)
                if conv["pool"] == "before-relu":
                    x = F.max_pool2d(x, 2)
                if conv["relu"]:
                    x = F.relu(x)
                if conv["pool"] == "after-relu":
                    x = F.max_pool2d(x, 2)
            x = F.relu(self.f1(torch.flatten(self.d1(x), 1)))
            return F.log_softmax(self.f2(self.d2(x)), dim=1)

    return SpecNet()


def torch_device():
    """TORCH_DEVICE, default cpu."""
    _, torch, _, _ = torch_modules()
    return torch.device(os.environ.get("TORCH_DEVICE") or "cpu")


def make_optimizer(spec, parameters):
    _, torch, _, _ = torch_modules()
    if spec["kind"] == "adam":
        return torch.optim.Adam(parameters, lr=spec["lr"], betas=(spec["beta1"], spec["beta2"]), eps=spec["eps"])
    return torch.optim.Adadelta(parameters, lr=spec["lr"], rho=spec["rho"], eps=spec["eps"])


def make_scheduler(spec, optimizer, total_steps):
    _, torch, _, _ = torch_modules()
    if spec["kind"] == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=spec["stepSize"], gamma=spec["gamma"])
    return torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=spec["maxLr"], total_steps=total_steps, pct_start=spec["pctStart"],
        anneal_strategy=spec["anneal"], div_factor=spec["divFactor"], final_div_factor=spec["finalDivFactor"],
        three_phase=spec["threePhase"], cycle_momentum=False)


class Stepper:
    """When the scheduler steps: OneCycleLR after every batch, StepLR after every epoch."""

    def __init__(self, spec, scheduler):
        self.per_batch = spec["kind"] == "onecycle"
        self.scheduler = scheduler

    def after_batch(self):
        if self.per_batch:
            self.scheduler.step()

    def after_epoch(self):
        if not self.per_batch:
            self.scheduler.step()


def device_slices(count, batch_size, drop_last):
    """The [start, end) of each batch of one epoch on the device path: contiguous slices."""
    batches = count // batch_size if drop_last else (count + batch_size - 1) // batch_size
    return [(i * batch_size, min((i + 1) * batch_size, count)) for i in range(batches)]


def per_sample_loader(images, labels, batch_size, shuffle, drop_last):
    """The per-sample path: uint8 images converted and normalised one at a time, stacked by a DataLoader."""
    _, torch, _, _ = torch_modules()

    class MnistSamples(torch.utils.data.Dataset):
        def __len__(self):
            return len(labels)

        def __getitem__(self, i):
            x = torch.from_numpy(images[i].astype("float32") / 255.0).unsqueeze(0)
            return (x - MNIST_MEAN) / MNIST_STD, int(labels[i])

    return torch.utils.data.DataLoader(MnistSamples(), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last)


class Batches:
    """One split on the recipe's data path: `len()` batches per epoch, iterated once per epoch."""

    def __init__(self, recipe, images, labels, batch_size, training):
        _, torch, _, _ = torch_modules()
        self.torch = torch
        self.batch_size = batch_size
        self.drop_last = recipe["dropLast"] if training else False
        reshuffle = training and recipe["shuffle"] == "every-epoch"
        if training and recipe["shuffle"] == "once":
            order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(SAVED_ORDER_SEED)).numpy()
            images, labels = images[order], labels[order]
        self.device = recipe["dataPath"] == "device"
        if self.device:
            x = torch.from_numpy(images.astype("float32") / 255.0).unsqueeze(1)
            # kept on the device once, as the data path says (a no-op move on the CPU)
            self.x = ((x - MNIST_MEAN) / MNIST_STD).to(torch_device())
            self.y = torch.from_numpy(labels.astype("int64")).to(torch_device())
            self.reshuffle = reshuffle
        else:
            self.loader = per_sample_loader(images, labels, batch_size, reshuffle, self.drop_last)
        self.count = len(labels)
        self.target = torch_device()

    def __len__(self):
        return len(device_slices(self.count, self.batch_size, self.drop_last)) if self.device else len(self.loader)

    def __iter__(self):
        if not self.device:
            return iter(self.loader)
        if self.reshuffle:  # not a recipe of the ladder: the device path with a gather per epoch
            order = self.torch.randperm(self.count).to(self.x.device)
            return ((self.x[order[a:b]], self.y[order[a:b]]) for a, b in device_slices(self.count, self.batch_size, self.drop_last))
        return ((self.x[a:b], self.y[a:b]) for a, b in device_slices(self.count, self.batch_size, self.drop_last))


def batches_per_epoch(recipe, count):
    """What `len(Batches(...))` gives for `count` training images, without the images."""
    if recipe["dataPath"] == "device":
        return len(device_slices(count, recipe["batchSize"], recipe["dropLast"]))
    np, _, _, _ = torch_modules()
    empty = np.zeros((count, 28, 28), dtype=np.uint8)
    return len(per_sample_loader(empty, np.zeros(count, dtype=np.uint8), recipe["batchSize"], False, recipe["dropLast"]))


def accuracy(model, test):
    _, torch, _, _ = torch_modules()
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in test:
            x, y = x.to(test.target), y.to(test.target)
            correct += (model(x).argmax(1) == y).sum().item()
    model.train()
    return 100.0 * correct / test.count


def loss_of(log_probs, y, smoothing):
    """The training loss: NLL, or with label smoothing PyTorch's own smoothed cross-entropy (its
    log_softmax leaves log-probabilities unchanged)."""
    F = torch_modules()[3]
    if smoothing == 0:
        return F.nll_loss(log_probs, y)
    return F.cross_entropy(log_probs, y, label_smoothing=smoothing)


def train(recipe, train_set, test_set, seed):
    """Trains and measures one run; returns (seconds, test accuracy, epochs run)."""
    _, torch, _, F = torch_modules()
    torch.manual_seed(seed)
    device = torch_device()
    model = build_net(recipe["net"]).to(device)
    optimizer = make_optimizer(recipe["optimizer"], model.parameters())
    stepper = Stepper(recipe["schedule"], make_scheduler(recipe["schedule"], optimizer, recipe["epochs"] * len(train_set)))
    model.train()
    result, epochs = None, 0
    started = time.perf_counter()
    for epoch in range(recipe["epochs"]):
        for x, y in train_set:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss_of(model(x), y, recipe["labelSmoothing"]).backward()
            optimizer.step()
            stepper.after_batch()
        stepper.after_epoch()
        epochs = epoch + 1
        if recipe["evaluate"] == "every-epoch" or epochs == recipe["epochs"]:
            result = accuracy(model, test_set)
            if recipe["stopAtAccuracy"] is not None and result >= recipe["stopAtAccuracy"]:
                break
    return time.perf_counter() - started, result, epochs, sum(p.numel() for p in model.parameters())


def describe(recipe):
    """Batches per epoch and every optimizer step's learning rate, from PyTorch's schedulers."""
    _, torch, _, _ = torch_modules()
    per_epoch = batches_per_epoch(recipe, recipe["trainCount"] or 60000)
    total = per_epoch * recipe["epochs"]
    optimizer = make_optimizer(recipe["optimizer"], [torch.nn.Parameter(torch.zeros(1))])
    stepper = Stepper(recipe["schedule"], make_scheduler(recipe["schedule"], optimizer, total))
    rates = []
    for _ in range(recipe["epochs"]):
        for _ in range(per_epoch):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            stepper.after_batch()
        stepper.after_epoch()
    return {"step": recipe["step"], "batchesPerEpoch": per_epoch, "totalSteps": total, "learningRates": rates}


def read_idx(path, offset):
    np, _, _, _ = torch_modules()
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load_split(mnist_dir, prefix, count):
    paths = [os.path.join(mnist_dir, f"{prefix}-{kind}-idx{dims}-ubyte.gz") for kind, dims in [("images", 3), ("labels", 1)]]
    for path in paths:
        if not os.path.isfile(path):
            fail(f"{path} not found: set MNIST_DIR to the folder holding the four MNIST .gz files", 3)
    images = read_idx(paths[0], 16).reshape(-1, 28, 28)
    labels = read_idx(paths[1], 8)
    if count is not None and count > len(labels):
        raise RecipeError(f"{'trainCount' if prefix == 'train' else 'testCount'} must be at most {len(labels)}, got {count}")
    return images[:count], labels[:count]


def measure(recipe):
    _, torch, _, _ = torch_modules()
    mnist_dir = os.environ.get("MNIST_DIR")
    if not mnist_dir:
        fail("MNIST_DIR is not set: set it to the folder holding the four MNIST .gz files", 3)
    torch.set_num_threads(recipe["threads"] or len(os.sched_getaffinity(0)))
    train_images, train_labels = load_split(mnist_dir, "train", recipe["trainCount"])
    test_images, test_labels = load_split(mnist_dir, "t10k", recipe["testCount"])
    batch = recipe["batchSize"]

    # untimed warm-up, as lib/measure.ts: one epoch on a slice that ends with the same partial batch
    warm_count = min(len(train_labels), batch * 8 + len(train_labels) % batch)
    warm = dict(recipe, epochs=1, stopAtAccuracy=None, evaluate="end")
    train(warm, Batches(warm, train_images[:warm_count], train_labels[:warm_count], batch, True),
          Batches(warm, test_images[:1000], test_labels[:1000], EVAL_BATCH_SIZE, False), seed=0)

    train_set = Batches(recipe, train_images, train_labels, batch, True)
    test_set = Batches(recipe, test_images, test_labels, EVAL_BATCH_SIZE, False)
    seconds, test_accuracy, epochs, parameters = train(recipe, train_set, test_set, recipe["seed"])
    return {
        "step": recipe["step"], "seconds": seconds, "testAccuracy": test_accuracy, "epochs": epochs,
        "batchesPerEpoch": len(train_set), "threads": torch.get_num_threads(), "torch": torch.__version__,
        "device": str(torch_device()), "parameters": parameters,
    }


def main(argv):
    flags = [a for a in argv if a.startswith("--")]
    paths = [a for a in argv if not a.startswith("--")]
    for flag in flags:
        if flag not in ("--describe", "--fields"):
            fail(f"unknown option '{flag}': use --describe or --fields", 2)
    if "--fields" in flags:
        print(json.dumps({"recipe": RECIPE_FIELDS, "optimizer": OPTIMIZER_FIELDS, "schedule": SCHEDULE_FIELDS, "run": RUN_FIELDS}))
        return
    if len(paths) > 1:
        fail("give one recipe: a JSON file path, or '-' (or nothing) for stdin", 2)
    source = paths[0] if paths else "-"
    try:
        text = sys.stdin.read() if source == "-" else open(source, encoding="utf8").read()
    except OSError as error:
        fail(f"cannot read the recipe {source}: {error.strerror}", 2)
    try:
        recipe = read_recipe(json.loads(text))
        try:
            torch_modules()
        except ImportError as error:
            fail(f"{sys.executable} cannot import torch ({error}): apt-get install python3-torch, or set PYTHON to a Python with torch", 2)
        print(json.dumps(describe(recipe) if "--describe" in flags else measure(recipe)))
    except json.JSONDecodeError as error:
        fail(f"the recipe {'on stdin' if source == '-' else source} is not JSON: {error}", 2)
    except RecipeError as error:
        fail(str(error), 2)


if __name__ == "__main__":
    main(sys.argv[1:])
