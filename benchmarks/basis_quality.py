"""Benchmark: how well each privileged-basis variant reads and edits the shipped (zoo) models.

For every zoo model and every basis variant -- the paper's weight-based algorithm with its two
groundings ("input": newest slot = W_uh, as in the paper's text; "output": newest slot = pinv(W_r),
as in the authors' later code), our "observer" grounding (the dual built from W_r W^m) and the
data-driven probes (`probe_basis` with the "dual" estimator, x ≈ D h, and the "basis" estimator,
h ≈ Ψ x, both fitted on 64 sequences of horizon 50) -- it measures:

* Φ recovery: relative Frobenius error of dual·W·Ψ against the ideal Φ restricted to the cycle
  coordinates (`Basis.phi_error`), the same after the best overall gain (`phi_error_scaled`), and
  the condition number of Ψ;
* decoding: fraction of stored-variable signs decoded correctly over the output phase against the
  task's ideal window (horizon 200, 10 batches of 64: the paper's test protocol), and, at a long
  horizon, both against the ideal window and against the model's own outputs on the hidden slots
  (`decoding_accuracy(..., reference="model", slots=range(s - 1))`);
* interventions: random edits (a random step t in [s-1, s-1+max_t], a random slot, random new
  signs for that slot's components, independently per sequence) made with `run_with_intervention`;
  an edit succeeds when the model's output signs match `predicted_outputs` at every output step
  from t on (t included: the edit comes before y(t) is read; never before s, where the output
  phase starts) until the end of the sequence.  Edits that change nothing (new signs equal to the
  old ones) are left out of the success rate.  As a reference, the same sequences without an edit: the fraction on
  which the unedited model matches the task at every step from t on.

Usage (from the repository root, inside the project's .venv):

    python benchmarks/basis_quality.py                       # every zoo model, every variant
    python benchmarks/basis_quality.py --models T2-h128-s0 --variants output observer
    python benchmarks/basis_quality.py --summary-only        # table of the recorded results

Records (one JSON object per model and variant, with versions, machine and date) are written to
benchmarks/results/basis_quality.jsonl (or --out); benchmarks/results.md holds the summary.
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

import emtlib
from emtlib.basis import decoding_accuracy, privileged_basis, probe_basis
from emtlib.interventions import predicted_outputs, run_with_intervention
from emtlib.lab import zoo
from emtlib.rnn import atomic_write_bytes
from emtlib.train import evaluate

RESULTS_DIR = Path(__file__).parent / "results"
VARIANTS = ("input", "output", "observer", "probe-dual", "probe-basis")
PAPER_VARIANTS = ("input", "output")


def build_basis(model, task, variant, seed):
    if variant.startswith("probe-"):
        return probe_basis(
            model, task, batch=64, horizon=50, seed=seed, estimator=variant.split("-")[1]
        )
    return privileged_basis(model, task, grounding=variant)


def interventions(model, task, basis, calls, batch, horizon, max_t, seed):
    """Success rate of random edits; returns a dict of counts and rates."""
    rng = np.random.default_rng(seed)
    s, d = task.s, task.d
    success = effective = baseline = total = 0
    signs_ok = signs = 0
    for _ in range(calls):
        inputs, targets = task.sample(batch, horizon, seed=int(rng.integers(2**63)))
        t = int(rng.integers(s - 1, s + max_t))
        slot = int(rng.integers(s))
        values = rng.choice([-1.0, 1.0], size=(batch, d))
        absent = np.setdiff1d(np.arange(d), basis.components(slot))
        values[:, absent] = np.nan  # components the basis does not keep are left alone
        outputs = run_with_intervention(model, task, basis, inputs, t, slot, values)
        predicted = predicted_outputs(task, inputs, t, slot, values)
        unedited = targets.double().numpy()
        u = max(t, s)  # first output step scored (the loss, and targets, start at s)
        changed = np.any(np.sign(predicted[u:]) != np.sign(unedited[u:]), axis=(0, 2))
        ok = np.all(np.sign(outputs[u:]) == np.sign(predicted[u:]), axis=(0, 2))
        success += int(np.sum(ok & changed))
        effective += int(np.sum(changed))
        signs_ok += int(np.sum((np.sign(outputs[u:]) == np.sign(predicted[u:]))[:, changed]))
        signs += int(np.sum(changed)) * (len(outputs) - u) * d
        with torch.no_grad():
            plain = model(inputs).double().numpy()
        baseline += int(np.sum(np.all(np.sign(plain[u:]) == np.sign(unedited[u:]), axis=(0, 2))))
        total += batch
    return {
        "edits": total,
        "edits_effective": effective,
        "intervention_success": success / max(effective, 1),
        "intervention_sign_accuracy": signs_ok / max(signs, 1),
        "unedited_success": baseline / total,
    }


def run(name, variant, args) -> dict:
    model = zoo.load(name)
    spec = model.record.spec
    task = spec.task_object
    start = time.perf_counter()
    basis = build_basis(model, task, variant, args.seed)
    hidden_slots = range(task.s - 1)
    record = {
        "model": name,
        "task": spec.label,
        "task_id": list(task.task_id),
        "hidden": spec.hidden,
        "model_seed": spec.seed,
        "variant": variant,
        "paper_variant": variant in PAPER_VARIANTS,
        "coordinates": basis.n_variables,
        "phi_error": basis.phi_error,
        "phi_error_scaled": basis.phi_error_scaled,
        "gain": basis.gain,
        "cond_psi": float(np.linalg.cond(basis.Psi)),
        "decoding_200": decoding_accuracy(
            model, task, basis, horizon=200, batches=args.batches, batch=args.batch, seed=args.seed
        ),
        "model_accuracy_200": evaluate(
            model, task, horizon=200, batches=args.batches, seed=args.seed
        ),
        "long_horizon": args.long_horizon,
        "decoding_long_ideal": decoding_accuracy(
            model,
            task,
            basis,
            horizon=args.long_horizon,
            batches=1,
            batch=args.long_batch,
            seed=args.seed + 1,
        ),
        "decoding_long_own_hidden": decoding_accuracy(
            model,
            task,
            basis,
            horizon=args.long_horizon,
            batches=1,
            batch=args.long_batch,
            seed=args.seed + 1,
            reference="model",
            slots=hidden_slots,
        ),
    }
    record.update(
        interventions(
            model,
            task,
            basis,
            args.edit_calls,
            args.edit_batch,
            args.edit_horizon,
            args.edit_max_t,
            args.seed + 2,
        )
    )
    record.update(
        {
            "seconds": round(time.perf_counter() - start, 2),
            "seed": args.seed,
            "protocol": {
                k: getattr(args, k)
                for k in (
                    "batches",
                    "batch",
                    "long_horizon",
                    "long_batch",
                    "edit_calls",
                    "edit_batch",
                    "edit_horizon",
                    "edit_max_t",
                )
            },
            "emtlib": emtlib.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
            "threads": torch.get_num_threads(),
            "machine": f"{platform.node()} {platform.processor() or platform.machine()}",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
    )
    return record


METRICS = (
    (
        "decoding_200",
        "{:.4f}",
        "Decoding accuracy at horizon 200 (against the task's window)",
        "model_accuracy_200",
    ),
    (
        "decoding_long_ideal",
        "{:.4f}",
        "Decoding accuracy at the long horizon, against the task's window",
        None,
    ),
    (
        "decoding_long_own_hidden",
        "{:.4f}",
        "Decoding accuracy at the long horizon, hidden slots, against the model's own outputs",
        None,
    ),
    ("phi_error", "{:.3f}", "Φ recovery: relative Frobenius error of dual·W·Ψ against Φ_CC", None),
    ("phi_error_scaled", "{:.3f}", "Φ recovery after the best overall gain", None),
    ("cond_psi", "{:.1f}", "Condition number of Ψ", None),
    (
        "intervention_success",
        "{:.3f}",
        "Intervention success rate (edits that change the future)",
        "unedited_success",
    ),
)


def pivot(records: list[dict], key: str, fmt: str, extra: str | None = None) -> str:
    """One Markdown table: rows = models, columns = variants (paper's first), plus an optional
    per-model column ``extra`` (e.g. the model's own accuracy)."""
    variants = [v for v in VARIANTS if any(r["variant"] == v for r in records)]
    label = {v: f"{v} ({'paper' if v in PAPER_VARIANTS else 'ours'})" for v in variants}
    head = ["model"] + [label[v] for v in variants] + ([extra.replace("_", " ")] if extra else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for model in sorted({r["model"] for r in records}):
        row = {r["variant"]: r for r in records if r["model"] == model}
        cells = [fmt.format(row[v][key]) if v in row else "–" for v in variants]
        if extra:
            cells.append(fmt.format(next(iter(row.values()))[extra]))
        lines.append("| " + " | ".join([model] + cells) + " |")
    return "\n".join(lines)


def summarise(records: list[dict]) -> str:
    """Markdown tables, one per metric: models by rows, basis variants side by side."""
    if not records:
        return "no records"
    parts = []
    long = sorted({r["long_horizon"] for r in records})
    for key, fmt, title, extra in METRICS:
        parts.append(
            f"**{title}**"
            + (f" (long horizon {', '.join(map(str, long))})" if "long" in key else "")
            + "\n"
        )
        parts.append(pivot(records, key, fmt, extra) + "\n")
    return "\n".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", default=None, help="zoo names (default: every built model)"
    )
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of every random draw (sequences, edits)"
    )
    parser.add_argument(
        "--batches", type=int, default=10, help="batches for decoding at horizon 200"
    )
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--long-horizon", type=int, default=10_000)
    parser.add_argument("--long-batch", type=int, default=16, help="sequences at the long horizon")
    parser.add_argument("--edit-calls", type=int, default=32, help="edits with their own (t, slot)")
    parser.add_argument(
        "--edit-batch", type=int, default=8, help="sequences per edit call (own new values)"
    )
    parser.add_argument(
        "--edit-horizon", type=int, default=60, help="output steps of the edited sequences"
    )
    parser.add_argument("--edit-max-t", type=int, default=20, help="edit at step s-1 .. s-1+this-1")
    parser.add_argument(
        "--out", default="basis_quality.jsonl", help="file name under benchmarks/results/"
    )
    parser.add_argument(
        "--summary-only", action="store_true", help="only print the summary of recorded runs"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    out = RESULTS_DIR / args.out
    if not args.summary_only:
        names = sorted(zoo.available()) if args.models is None else args.models
        records = []
        for name in names:
            for variant in args.variants:
                record = run(name, variant, args)
                records.append(record)
                print(
                    json.dumps(
                        {
                            k: record[k]
                            for k in (
                                "model",
                                "variant",
                                "phi_error",
                                "decoding_200",
                                "decoding_long_own_hidden",
                                "intervention_success",
                                "seconds",
                            )
                        }
                    ),
                    flush=True,
                )
                text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records)
                atomic_write_bytes(out, text.encode())
    records = [json.loads(line) for line in out.read_text().splitlines()] if out.exists() else []
    print(summarise(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
