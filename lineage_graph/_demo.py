"""The demo pipeline ``lineage-graph demo`` records: a small but real ML workflow.

ingest a CSV → split it → train two models (scikit-learn's logistic regression if installed,
else a tiny pure-Python one) → register both, deploy the better one → re-run a training step on
the same inputs, which the cache check recognises. Everything is recorded with the pipeline API.
Deterministic: the same files, ids and numbers on every run.
"""

from __future__ import annotations

import csv
import importlib
import json
import math
import pickle
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._interrupts import interrupt_held
from .models import Artifact, Context
from .pipeline import CacheHit

if TYPE_CHECKING:
    from ._tracker import ModelVersion
    from .store import LineageStore

__all__ = ["DemoResult", "run_demo"]

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "month_to_month"]
LABEL = "churned"
SEED = 42
C_VALUES = (0.003, 1.0)
MODEL_NAME = "churn-model"


@dataclass
class DemoResult:
    workdir: Path
    raw: Artifact
    train: Artifact
    test: Artifact
    models: list[Artifact]
    best: ModelVersion
    experiment: Context | None
    library: str


Rows = list[list[float]]


def make_dataset(path: Path, n: int = 600, seed: int = SEED) -> int:
    """A synthetic customer-churn table (deterministic): 4 features and a 0/1 label."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow([*FEATURES, LABEL])
        for _ in range(n):
            tenure = rng.randint(1, 72)
            charges = round(rng.uniform(20, 120), 2)
            calls = rng.randint(0, 8)
            monthly = rng.random() < 0.5
            score = -0.05 * tenure + 0.02 * charges + 0.45 * calls + 1.2 * monthly - 1.4
            churned = rng.random() < 1 / (1 + math.exp(-score))
            out.writerow([tenure, charges, calls, int(monthly), int(churned)])
    return n


def read_csv(path: Path) -> tuple[Rows, list[int]]:
    xs: Rows = []
    ys: list[int] = []
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            xs.append([float(row[c]) for c in FEATURES])
            ys.append(int(row[LABEL]))
    return xs, ys


def write_rows(path: Path, xs: Rows, ys: Sequence[int]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow([*FEATURES, LABEL])
        for x, y in zip(xs, ys, strict=True):
            out.writerow([*(int(v) if v.is_integer() else v for v in x), y])


# ---------------------------------------------------------------------------------- models


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


class TinyLogisticRegression:
    """L2-regularised logistic regression by batch gradient descent on standardised features:
    the fallback when scikit-learn is not installed (``C`` means what it means there)."""

    def __init__(self, C: float = 1.0, epochs: int = 300, lr: float = 0.5) -> None:
        self.C, self.epochs, self.lr = C, epochs, lr
        self.mean: list[float] = []
        self.scale: list[float] = []
        self.coef: list[float] = []
        self.intercept = 0.0

    def _std(self, x: list[float]) -> list[float]:
        return [(v - m) / s for v, m, s in zip(x, self.mean, self.scale, strict=True)]

    def fit(self, xs: Rows, ys: Sequence[int]) -> TinyLogisticRegression:
        n, d = len(xs), len(xs[0])
        self.mean = [sum(x[j] for x in xs) / n for j in range(d)]
        self.scale = [
            math.sqrt(sum((x[j] - self.mean[j]) ** 2 for x in xs) / n) or 1.0 for j in range(d)
        ]
        zs = [self._std(x) for x in xs]
        w, b = [0.0] * d, 0.0
        shrink = 1 + self.lr / (self.C * n)  # the L2 term as a proximal step: always stable
        for _ in range(self.epochs):
            gw, gb = [0.0] * d, 0.0
            for z, y in zip(zs, ys, strict=True):
                p = _sigmoid(sum(wj * zj for wj, zj in zip(w, z, strict=True)) + b)
                for j in range(d):
                    gw[j] += (p - y) * z[j]
                gb += p - y
            w = [(wj - self.lr * g / n) / shrink for wj, g in zip(w, gw, strict=True)]
            b -= self.lr * gb / n
        self.coef, self.intercept = w, b
        return self

    def predict(self, xs: Rows) -> list[int]:
        out = []
        for x in xs:
            s = sum(c * z for c, z in zip(self.coef, self._std(x), strict=True)) + self.intercept
            out.append(int(s > 0))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "model": "TinyLogisticRegression",
            "features": FEATURES,
            "C": self.C,
            "mean": self.mean,
            "scale": self.scale,
            "coef": self.coef,
            "intercept": self.intercept,
        }


def _train(xs: Rows, ys: list[int], C: float, model_dir: Path) -> tuple[Any, Path, str]:
    """Fit a model; returns it, the file it was saved to, and which library trained it."""
    model_dir.mkdir(parents=True, exist_ok=True)
    try:
        # A Ctrl-C is held through scikit-learn's import (half a second, its numpy and scipy
        # with it) and delivered once it is done: landing in it, it was lost for good (1 run
        # in about 100), the demo ran to its end (exit 0) and said nothing. Cython's module set-up
        # (numpy.random's, registering its memoryview types with collections.abc) runs under a
        # bare ``except: pass``, which took the KeyboardInterrupt (a second Ctrl-C is still
        # raised where it lands, as in any hold).
        with interrupt_held():
            linear: Any = importlib.import_module("sklearn.linear_model")
            pipeline: Any = importlib.import_module("sklearn.pipeline")
            preprocessing: Any = importlib.import_module("sklearn.preprocessing")
    except ImportError:
        tiny = TinyLogisticRegression(C=C).fit(xs, ys)
        path = model_dir / f"model-C{C}.json"
        path.write_text(json.dumps(tiny.to_json(), indent=2), encoding="utf-8")
        return tiny, path, "pure-python"
    model = pipeline.make_pipeline(
        preprocessing.StandardScaler(), linear.LogisticRegression(C=C, max_iter=1000)
    )
    model.fit(xs, ys)
    path = model_dir / f"model-C{C}.pkl"
    with path.open("wb") as f:
        pickle.dump(model, f)
    return model, path, "scikit-learn"


def _accuracy(model: Any, xs: Rows, ys: list[int]) -> float:
    predicted = list(model.predict(xs))
    return round(sum(int(p == y) for p, y in zip(predicted, ys, strict=True)) / len(ys), 4)


# ---------------------------------------------------------------------------------- pipeline


def run_demo(
    store: LineageStore, workdir: Path, *, say: Callable[[str], None] = lambda _: None
) -> DemoResult:
    """Run the demo pipeline in ``workdir`` (data and models) recording into ``store``."""
    data_dir, model_dir = workdir / "data", workdir / "models"
    pipeline_ctx = Context(type="Pipeline", name="churn-pipeline")

    say("ingesting customers.csv")
    raw_path = data_dir / "customers.csv"
    with store.run("IngestData", context=pipeline_ctx, properties={"seed": SEED}) as run:
        rows = make_dataset(raw_path)
        raw = run.output(
            "DataSet",
            uri=raw_path.resolve().as_uri(),
            name="customers.csv",
            properties={"rows": rows, "columns": len(FEATURES) + 1},
        )

    say("splitting it into train and test sets")
    with store.run(
        "SplitData",
        inputs={"data": raw},
        context=pipeline_ctx,
        properties={"test_fraction": 0.2, "seed": SEED},
    ) as run:
        xs, ys = read_csv(raw_path)
        order = list(range(len(xs)))
        random.Random(SEED).shuffle(order)
        cut = int(len(order) * 0.8)
        parts = {"train": order[:cut], "test": order[cut:]}
        split: dict[str, Artifact] = {}
        for part, idx in parts.items():
            path = data_dir / f"{part}.csv"
            write_rows(path, [xs[i] for i in idx], [ys[i] for i in idx])
            split[part] = run.output(
                "DataSet",
                key=part,
                uri=path.resolve().as_uri(),
                name=f"{part}.csv",
                properties={"rows": len(idx), "columns": len(FEATURES) + 1},
            )

    train_xy = read_csv(data_dir / "train.csv")
    test_xy = read_csv(data_dir / "test.csv")
    models: list[Artifact] = []
    library = "pure-python"
    for C in C_VALUES:
        say(f"training a logistic regression with C={C}")
        with store.run(
            "Trainer",
            inputs={"train": split["train"], "test": split["test"]},
            context=[pipeline_ctx, Context(type="Experiment", name=f"churn-C{C}")],
            properties={"algorithm": "logistic_regression", "C": C},
        ) as run:
            model, path, library = _train(*train_xy, C=C, model_dir=model_dir)
            accuracy = _accuracy(model, *test_xy)
            run.log_metrics(accuracy=accuracy, train_accuracy=_accuracy(model, *train_xy))
            run.log_properties(library=library)
            models.append(
                run.output(
                    "Model",
                    key="model",
                    uri=path.resolve().as_uri(),
                    name=f"churn-C{C}",
                    custom_properties={"accuracy": accuracy, "library": library},
                )
            )

    say("registering both models and deploying the better one")
    tracker = store.tracker
    for m in models:
        tracker.register_model(m, MODEL_NAME)
    best = tracker.best_version(MODEL_NAME, "accuracy")
    assert best is not None
    tracker.deploy(best, environment="production")
    experiment = tracker.experiment_of(best)

    return DemoResult(
        workdir=workdir,
        raw=raw,
        train=split["train"],
        test=split["test"],
        models=models,
        best=best,
        experiment=experiment,
        library=library,
    )


def rerun_training(store: LineageStore, result: DemoResult) -> tuple[CacheHit, int]:
    """Run the first training step again on the same inputs: the cache check finds the earlier
    run, so nothing is trained and the run is recorded ``CACHED``. Returns the hit and the id
    of the cached run."""
    C = C_VALUES[0]
    with store.run(
        "Trainer",
        inputs={"train": result.train, "test": result.test},
        context=[
            Context(type="Pipeline", name="churn-pipeline"),
            Context(type="Experiment", name=f"churn-C{C}"),
        ],
        properties={"algorithm": "logistic_regression", "C": C},
    ) as rerun:
        hit = rerun.cached
        if hit is None:  # pragma: no cover - the demo's own invariant
            raise AssertionError("the re-run should have been a cache hit")
        rerun.use_cached()  # nothing to train: the outputs exist
    return hit, rerun.id
