"""The book's interactive explorers (ipywidgets).

Every explorer is a function returning a widget; a chapter displays it and, beside it, a static
figure of the same behaviour so that a reader without a kernel still sees it. Widgets sit on top
of the library: this module may import any other emtlib module, and none of them imports it.
"""

from __future__ import annotations


# --- GSEMM chapters ---
def basis_change_explorer(M=None):
    """Rotate and stretch a basis of the plane and watch the matrix of ``M`` change while its
    eigenvalues stay (chapter "Bases, dual bases and Dirac notation")."""
    import ipywidgets as w
    import matplotlib.pyplot as plt
    import numpy as np

    from emtlib import plots

    M = np.array([[0.6, -0.8], [0.8, 0.6]]) @ np.diag([1.1, 0.9]) if M is None else np.asarray(M)

    def show(angle1=0.0, angle2=90.0, length2=1.0):
        a1, a2 = np.deg2rad(angle1), np.deg2rad(angle2)
        B = np.array([[np.cos(a1), length2 * np.cos(a2)], [np.sin(a1), length2 * np.sin(a2)]])
        if abs(np.linalg.det(B)) < 1e-3:
            print("b1 and b2 are parallel: they are no basis of the plane.")
            return
        plots.basis_change_figure(M, B)
        plt.show()

    return w.interactive(
        show,
        angle1=w.FloatSlider(
            value=0.0,
            min=-180,
            max=180,
            step=5,
            description="angle b1 (°)",
            continuous_update=False,
        ),
        angle2=w.FloatSlider(
            value=90.0,
            min=-180,
            max=180,
            step=5,
            description="angle b2 (°)",
            continuous_update=False,
        ),
        length2=w.FloatSlider(
            value=1.0, min=0.2, max=2.0, step=0.1, description="length b2", continuous_update=False
        ),
    )


def gsemm_explorer(Xi, Phi, V_f0, t_end=800.0, **model_kwargs):
    """Sequence recall of a GSEMM as the delay time constant ``T_d`` and the coupling ``a_c`` change
    (chapter "The General Sequential Episodic Memory Model")."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from emtlib import gsemm, plots

    def show(T_d=100.0, a_c=6.0):
        model = gsemm.GSEMM(Xi, Phi, T_d=T_d, a_c=a_c, **model_kwargs)
        traj = model.simulate(V_f0, t_end, n_points=801, rtol=1e-6, atol=1e-8)
        plots.gsemm_recall_figure(
            traj.t,
            gsemm.overlaps(Xi, traj.V_f),
            model.trajectory_energy(traj),
            title=f"$T_d$ = {T_d:g}, $a_c$ = {a_c:g}",
        )
        plt.show()

    return w.interactive(
        show,
        T_d=w.FloatLogSlider(
            value=100.0,
            base=10,
            min=1,
            max=2.7,
            step=0.1,
            description="T_d",
            continuous_update=False,
        ),
        a_c=w.FloatSlider(
            value=6.0, min=0.0, max=12.0, step=0.5, description="a_c", continuous_update=False
        ),
    )


# --- Variable binding tasks chapter ---
def _parse_id_field(text, name):
    """Read one id field typed by the reader as a non-negative integer (ValueError otherwise)."""
    text = str(text).strip().replace("_", "").replace(",", "")
    try:
        value = int(text, 0) if text.lower().startswith(("0b", "0x")) else int(text)
    except ValueError:
        raise ValueError(f"{name} must be a non-negative integer, got {text!r}") from None
    return value


def task_explorer_view(s, d, t1, t2, t3):
    """What the task explorer shows for one id (chapter "Variable binding tasks").

    Returns ``(task, text)``: the :class:`emtlib.tasks.Task` and a description of how its id is
    read (set bits of t1, base-d digits of t2, sign bits of t3, then the rules); or ``(None,
    message)`` with the ValueError message when the id is invalid for this ``s`` and ``d``.
    The id fields may be ints or the strings a reader types.
    """
    from .tasks import Task

    try:
        t1, t2, t3 = (_parse_id_field(v, n) for v, n in zip((t1, t2, t3), ("t1", "t2", "t3")))
        task = Task(int(s), int(d), (t1, t2, t3))
    except ValueError as err:
        return None, f"Invalid id for s={s}, d={d}: {err}"
    digits, rest = [], t2
    while rest:
        digits.append(rest % task.d)
        rest //= task.d
    text = "\n".join(
        [
            f"t1 set bits (rows of L in use): {task.rows.tolist()}",
            f"t2 digits, base d={task.d}, least significant first: {digits or [0]}",
            f"choice (row feeding each output): {task.choice.tolist()}",
            f"t3 sign bits -> signs: {task.signs.tolist()}",
            "",
            task.describe(),
        ]
    )
    return task, text


def task_explorer(s=3, d=4, task_id=None, horizon=None, seed=0):
    """Explorer over the ids of the variable binding family (chapter "Variable binding tasks").

    Sliders for ``s`` and ``d``, text fields for ``t1``, ``t2``, ``t3`` (Python ints of any size),
    a "random task" button driven by a seed and a "repeat copy" button. Shows ``L^T`` with the
    history slots marked, one sample sequence and the rules; an invalid id shows the ValueError
    message instead. Returns a ``widgets.VBox``; its attributes ``controls`` (dict of the control
    widgets), ``message`` (the HTML widget holding the text), ``plot`` (the Output) and ``task``
    (the Task shown, or None) let code drive and inspect it.
    """
    import html

    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    from .tasks import random_task

    if task_id is None:
        task_id = random_task(s, d, seed).task_id
    style = {"description_width": "initial"}
    s_w = widgets.IntSlider(
        value=s, min=1, max=8, description="s (window)", style=style, continuous_update=False
    )
    d_w = widgets.IntSlider(
        value=d, min=1, max=8, description="d (dimension)", style=style, continuous_update=False
    )
    h_w = widgets.IntSlider(
        value=3 * s if horizon is None else horizon,
        min=1,
        max=64,
        description="output steps",
        style=style,
        continuous_update=False,
    )
    t_w = [
        widgets.Text(
            value=str(v),
            description=n,
            continuous_update=False,
            layout=widgets.Layout(width="28ch"),
        )
        for v, n in zip(task_id, ("t1", "t2", "t3"))
    ]
    seed_w = widgets.IntText(value=seed, description="seed", layout=widgets.Layout(width="16ch"))
    rand_b = widgets.Button(
        description="random task", tooltip="draw a random task of the family with this seed"
    )
    copy_b = widgets.Button(description="repeat copy", tooltip="id (2^d - 1, 0, 0)")
    message = widgets.HTML()
    plot = widgets.Output()
    wrap = widgets.Layout(
        flex_flow="row wrap"
    )  # rows wrap in a narrow page column instead of being cut off
    box = widgets.VBox(
        [
            widgets.HBox([s_w, d_w, h_w], layout=wrap),
            widgets.HBox(t_w, layout=wrap),
            widgets.HBox([seed_w, rand_b, copy_b], layout=wrap),
            message,
            plot,
        ]
    )
    box.controls = {
        "s": s_w,
        "d": d_w,
        "horizon": h_w,
        "t1": t_w[0],
        "t2": t_w[1],
        "t3": t_w[2],
        "seed": seed_w,
        "random": rand_b,
        "repeat_copy": copy_b,
    }
    box.message, box.plot, box.task = message, plot, None
    busy = [False]

    def redraw(*_):
        if busy[0]:
            return
        task, text = task_explorer_view(s_w.value, d_w.value, *(w.value for w in t_w))
        box.task = task
        colour = "#000" if task is not None else "#b00"
        message.value = f"<pre style='color:{colour}; line-height:1.25'>{html.escape(text)}</pre>"
        with plot:
            plot.clear_output(wait=True)
            if task is None:
                return
            from .plots import task_operator, task_sequence

            fig, (ax1, ax2) = plt.subplots(
                2, 1, figsize=(8.5, 2.4 + 0.5 * task.d), layout="constrained"
            )
            task_operator(task, ax=ax1, colorbar=False)
            task_sequence(
                task,
                horizon=h_w.value,
                seed=seed_w.value,
                ax=ax2,
                title="sample sequence (seed above)",
            )
            display(fig)
            plt.close(fig)

    def set_id(task_id):
        busy[0] = True
        try:
            for w, v in zip(t_w, task_id):
                w.value = str(v)
        finally:
            busy[0] = False
        redraw()

    rand_b.on_click(lambda _: set_id(random_task(s_w.value, d_w.value, seed_w.value).task_id))
    copy_b.on_click(lambda _: set_id((2**d_w.value - 1, 0, 0)))
    for w in (s_w, d_w, h_w, seed_w, *t_w):
        w.observe(redraw, names="value")
    redraw()
    return box


# --- Variable binding circuit chapter ---
def circuit_explorer(tasks=None, horizon=24, seed=0, gain=2.0):
    """Step through a run of the linear or the saturating circuit and compare its slots with the
    ideal window ``vec(z(t-s+1..t))`` (chapter "The variable binding circuit").

    ``tasks`` maps names to :class:`emtlib.tasks.Task` (default: the paper's four). Returns the widget.
    """
    import ipywidgets as w
    import matplotlib.pyplot as plt
    import numpy as np

    from emtlib import plots
    from emtlib.circuit import build_circuit, ideal_hidden_states, saturation_level
    from emtlib.tasks import PAPER_TASKS

    tasks = dict(PAPER_TASKS) if tasks is None else dict(tasks)
    if not tasks:
        raise ValueError("circuit_explorer needs at least one task")

    def runs(name, kind):
        task = tasks[name]
        inputs, _ = task.sample(1, horizon, seed=seed)
        inputs = inputs.numpy()[:, 0]
        nonlinear = kind == "saturating"
        circuit = build_circuit(task, nonlinear=nonlinear, gain=gain)
        states = circuit.hidden_states(inputs)
        if nonlinear:
            states = states / saturation_level(gain)  # shown on the ±1 scale of the ideal window
        ideal = ideal_hidden_states(task, inputs[: task.s], horizon)
        return task, states, ideal

    def show(name, kind, t):
        task, states, ideal = runs(name, kind)
        s, d = task.s, task.d
        wrong = int(np.sum(np.sign(np.round(states[t], 9)) != np.sign(ideal[t])))
        fig, (a0, a1) = plt.subplots(1, 2, figsize=(6.6, 3.3), layout="constrained")
        labels = [f"z({t - s + 1 + k})" if t - s + 1 + k >= 0 else "empty" for k in range(s)]
        plots.slot_grid(
            states[t],
            s,
            d,
            ax=a0,
            row_labels=labels,
            annotate=True,
            title=f"{kind} circuit, t = {t}",
        )
        plots.slot_grid(
            ideal[t], s, d, ax=a1, row_labels=labels, annotate=True, title="ideal window"
        )
        phase = "input phase" if t < s else "output phase"
        fig.suptitle(f"{name}: {phase}; cells with a wrong sign: {wrong}", fontsize=9)
        plt.show()

    return w.interactive(
        show,
        name=w.Dropdown(
            options=list(tasks), value=list(tasks)[min(1, len(tasks) - 1)], description="task"
        ),
        kind=w.ToggleButtons(
            options=["linear", "saturating"], value="linear", description="circuit"
        ),
        t=w.IntSlider(
            value=1,
            min=0,
            max=horizon + min(t.s for t in tasks.values()) - 1,
            step=1,
            description="step t",
            continuous_update=False,
        ),
    )


# --- Training chapter ---
def training_explorer_view(name, horizon, batches=1, seed=0):
    """Draw one zoo model's eigenvalues against its task's Φ and print its accuracy at ``horizon``
    (chapter "Training RNNs on variable binding"). Returns ``(figure, accuracy)``."""
    import matplotlib.pyplot as plt

    from emtlib import plots, zoo
    from emtlib.spectra import eigenvalues, ideal_eigenvalues, spectral_error
    from emtlib.tasks import Task
    from emtlib.train import evaluate

    model = zoo.load(name)
    meta = model.metadata
    task = Task(meta["s"], meta["d"], tuple(meta["task_id"]))
    acc = evaluate(model, task, horizon=horizon, batches=batches, seed=seed)
    err = spectral_error(model, task)
    fig, ax = plt.subplots(figsize=(4.4, 4.4), layout="constrained")
    plots.spectrum_vs_ideal(
        eigenvalues(model),
        ideal_eigenvalues(task),
        ax=ax,
        title=f"{name}: accuracy {acc:.4f} at horizon {horizon:,}\nspectral error {err}",
    )
    return fig, acc


def training_explorer(names=None, horizons=(200, 1000, 10000)):
    """Pick a shipped model and a test horizon; see its spectrum against Φ and its accuracy
    (chapter "Training RNNs on variable binding"). ``names`` defaults to every built zoo model."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from emtlib import zoo

    names = sorted(zoo.available()) if names is None else list(names)
    if not names:
        raise ValueError("training_explorer needs at least one zoo model")

    def show(name, horizon):
        training_explorer_view(name, horizon)
        plt.show()

    return w.interactive(
        show,
        name=w.Dropdown(options=names, value=names[0], description="model"),
        horizon=w.Dropdown(options=list(horizons), value=horizons[0], description="horizon"),
    )


# --- chapter: The privileged basis and hidden neurons ---
def _basis_run(name, grounding, horizon, seed):
    """Zoo model ``name``, its task, the basis, and one decoded sequence with its ideal windows
    (chapter "The privileged basis and hidden neurons"); cached, since the explorer redraws often."""
    import numpy as np

    from emtlib import zoo
    from emtlib.basis import decode, privileged_basis, probe_basis
    from emtlib.circuit import ideal_hidden_states
    from emtlib.tasks import Task

    key = (name, grounding, int(horizon), int(seed))
    if key not in _BASIS_CACHE:
        model = zoo.load(name)
        meta = model.metadata
        task = Task(meta["s"], meta["d"], tuple(meta["task_id"]))
        if grounding == "probe":
            basis = probe_basis(model, task, seed=seed)
        else:
            basis = privileged_basis(model, task, grounding=grounding)
        inputs, _ = task.sample(1, horizon, seed=seed)
        decoded = decode(model, basis, inputs.numpy()[:, 0])  # (T, s, d)
        ideal = ideal_hidden_states(task, inputs.numpy()[: task.s, 0], horizon).reshape(
            -1, task.s, task.d
        )
        ideal = np.where(np.isnan(decoded), np.nan, ideal)
        if len(_BASIS_CACHE) > 16:
            _BASIS_CACHE.clear()
        _BASIS_CACHE[key] = (task, basis, decoded, ideal)
    return _BASIS_CACHE[key]


_BASIS_CACHE: dict = {}


def basis_explorer_view(name, grounding, t, horizon=30, seed=0):
    """Draw step ``t`` of one sequence of zoo model ``name`` read in its privileged basis
    (``grounding`` "input", "output", "observer" or "probe") beside the task's ideal window
    (chapter "The privileged basis and hidden neurons"). Returns ``(figure, wrong)``, ``wrong``
    the number of kept coordinates whose decoded sign differs from the ideal one."""
    import matplotlib.pyplot as plt
    import numpy as np

    from emtlib import plots

    if grounding not in ("input", "output", "observer", "probe"):
        raise ValueError(
            f"grounding must be 'input', 'output', 'observer' or 'probe', got {grounding!r}"
        )
    task, basis, decoded, ideal = _basis_run(name, grounding, horizon, seed)
    if not 0 <= int(t) < len(decoded):
        raise ValueError(f"t must lie in [0, {len(decoded) - 1}], got {t}")
    s, d = task.s, task.d
    D, I = decoded[t], ideal[t]
    wrong = np.isfinite(D) & (I != 0) & (np.sign(D) != np.sign(I))
    feeders = [tuple(map(int, divmod(p, d))) for p in task.choice] if t >= s - 1 else ()
    finite = np.abs(decoded[np.isfinite(decoded)])
    vmax = float(np.quantile(finite, 0.98)) if finite.size else 1.0
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(6.4, 3.3), layout="constrained")
    labels = plots.window_labels(t, s)
    plots.basis_state(
        D,
        ax=a0,
        row_labels=labels,
        vmax=vmax,
        highlight=feeders,
        wrong=wrong,
        title=f"{grounding} basis: dual @ h({t})",
    )
    plots.basis_state(
        I, ax=a1, row_labels=labels, vmax=1.0, highlight=feeders, title="ideal window"
    )
    phase = "input phase" if t < s else "output phase"
    fig.suptitle(
        f"{name}, {phase}: {int(wrong.sum())} of {basis.n_variables} signs wrong", fontsize=9
    )
    return fig, int(wrong.sum())


def basis_explorer(names=None, horizon=30, seed=0):
    """Step through one sequence of a shipped model read in its privileged basis: watch the
    variables move from slot to slot and the newest slot being composed from older ones
    (chapter "The privileged basis and hidden neurons"). ``names`` defaults to every built zoo model."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from emtlib import zoo

    names = sorted(zoo.available()) if names is None else list(names)
    if not names:
        raise ValueError("basis_explorer needs at least one zoo model")

    def show(name, grounding, t):
        basis_explorer_view(name, grounding, t, horizon=horizon, seed=seed)
        plt.show()

    start = next((n for n in names if n.startswith("T2")), names[0])
    window = max(int(zoo.load(n).metadata["s"]) for n in names)
    return w.interactive(
        show,
        name=w.Dropdown(options=names, value=start, description="model"),
        grounding=w.ToggleButtons(
            options=["input", "output", "observer", "probe"], value="observer", description="basis"
        ),
        t=w.IntSlider(
            value=min(14, horizon + window - 1),
            min=0,
            max=horizon + window - 1,
            step=1,
            description="step t",
            continuous_update=False,
        ),
    )


# --- chapter: Interventions ---
from functools import lru_cache as _lru_cache

#: The bases the intervention explorer offers, by name (chapter "Interventions").
INTERVENTION_BASES = ("fitted", "observer", "output", "input", "neurons")


def _intervention_setup(name, variant):
    """Zoo model, its task and the basis ``variant`` of it (chapter "Interventions"); cached."""
    if variant not in INTERVENTION_BASES:
        raise ValueError(f"basis must be one of {INTERVENTION_BASES}, got {variant!r}")
    return _intervention_setup_cached(name, variant)


@_lru_cache(maxsize=16)
def _intervention_setup_cached(name, variant):
    from emtlib import zoo
    from emtlib.basis import neuron_basis, privileged_basis, probe_basis
    from emtlib.tasks import Task

    model = zoo.load(name)
    meta = model.metadata
    task = Task(meta["s"], meta["d"], tuple(meta["task_id"]))
    if variant == "fitted":
        basis = probe_basis(model, task, estimator="basis", seed=0)
    elif variant == "neurons":
        basis = neuron_basis(model, task, seed=0)
    else:
        basis = privileged_basis(model, task, grounding=variant)
    return model, task, basis


def intervention_explorer_view(name, variant, slot, t, flip, seed=0, horizon=40):
    """Edit one stored variable of a zoo model and draw the unedited run, the edited run and the
    task's prediction (chapter "Interventions").

    ``variant`` is one of :data:`INTERVENTION_BASES`; at step ``t`` (output phase) the signs of
    components ``flip`` of slot ``slot`` are reversed (components the basis does not hold in that
    slot are skipped and named in the title).  Returns ``(figure, wrong)``, ``wrong`` the number of
    outputs after the edit whose sign differs from the prediction.
    """
    import numpy as np

    from emtlib import plots
    from emtlib.basis import predicted_outputs, run_with_intervention

    model, task, basis = _intervention_setup(name, variant)
    s, d = task.s, task.d
    if not s <= int(t) < s + horizon:
        raise ValueError(f"t must lie in the output phase, {s} <= t < {s + horizon}, got {t}")
    present = set(basis.components(slot).tolist())
    flip = sorted({int(j) for j in flip})
    if any(not 0 <= j < d for j in flip):
        raise ValueError(f"flip must list components in 0..{d - 1}, got {flip}")
    used, skipped = [j for j in flip if j in present], [j for j in flip if j not in present]
    inputs, _ = task.sample(1, horizon, seed=seed)
    x = inputs.numpy()
    z = task.generate(x[:s, 0], horizon)  # (T, d)
    new = np.full(d, np.nan)
    comps = sorted(present)
    new[comps] = z[t - s + 1 + slot, comps]
    new[used] *= -1
    unedited = model.run(x)[:, 0]
    edited = run_with_intervention(model, task, basis, x, t, slot, new)[:, 0]
    predicted = predicted_outputs(task, x, t, slot, new)[:, 0]
    wrong = int(np.sum(np.sign(edited[t:]) != np.sign(predicted[t:])))
    head = f"{name}, {variant} basis: slot {slot} at t = {t}, flip {used or 'nothing'}"
    if skipped:
        head += f" (components {skipped} are not stored in slot {slot}: skipped)"
    fig = plots.intervention_outputs(unedited, edited, predicted, t, s=s, title=head)
    return fig, wrong


def intervention_explorer(names=None, horizon=40):
    """Pick a shipped model, a basis, a slot, a step and the signs to reverse; see whether the
    network's outputs follow the task's prediction (chapter "Interventions").
    ``names`` defaults to every built zoo model."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from emtlib import zoo

    names = sorted(zoo.available()) if names is None else list(names)
    if not names:
        raise ValueError("intervention_explorer needs at least one zoo model")
    _, task, _ = _intervention_setup(names[0], "fitted")
    s, d = task.s, task.d

    def show(name, variant, slot, t, flip, seed):
        intervention_explorer_view(name, variant, slot, t, flip, seed=seed, horizon=horizon)
        plt.show()

    return w.interactive(
        show,
        name=w.Dropdown(options=names, value=names[min(2, len(names) - 1)], description="model"),
        variant=w.Dropdown(options=list(INTERVENTION_BASES), value="fitted", description="basis"),
        slot=w.IntSlider(
            value=s - 2, min=0, max=s - 1, description="slot", continuous_update=False
        ),
        t=w.IntSlider(
            value=s + 4, min=s, max=s + horizon - 1, description="step t", continuous_update=False
        ),
        flip=w.SelectMultiple(options=list(range(d)), value=(0,), rows=4, description="flip"),
        seed=w.IntSlider(value=0, min=0, max=20, description="sequence", continuous_update=False),
    )


# --- chapter: Universality ---
def _grid_lookup(records, task, hidden, l2, seed, threshold):
    """The record of one grid point of a sweep, or None (chapter "Universality")."""
    if isinstance(records, dict):
        records = records.values()
    for r in records:
        c = r["config"]
        if (
            c["task"] == task
            and int(c["hidden"]) == int(hidden)
            and float(c["l2"]) == float(l2)
            and int(c["seed"]) == int(seed)
            and float(c["threshold"]) == float(threshold)
        ):
            return r
    return None


def universality_explorer_view(task, hidden, l2, seed, threshold, records=None, ideal=None):
    """Draw one run of a sweep (default: the book's shipped Table 1 grid): its eigenvalues against
    the task's Φ, with its accuracy, long-lived modes and spectral error in the title (chapter
    "Universality").

    ``task`` is a task label of the records (``"T1"`` ... ``"T4"`` for the book's grid);
    ``ideal`` Φ's eigenvalues (default: from the record's task, or :data:`PAPER_TASKS`).  A grid
    point without a record is drawn as Φ alone, marked "pending".  Returns ``(figure, record or None)``.
    """
    import matplotlib.pyplot as plt

    from emtlib import plots
    from emtlib.spectra import ideal_eigenvalues
    from emtlib.tasks import PAPER_TASKS, Task

    if records is None:
        from emtlib.sweep import shipped

        records = shipped("table1")[1]
    record = _grid_lookup(records, task, hidden, l2, seed, threshold)
    if ideal is None:
        if record is not None:
            c = record["config"]
            ideal = ideal_eigenvalues(Task(c["s"], c["d"], tuple(c["task_id"])))
        elif task in PAPER_TASKS:
            ideal = ideal_eigenvalues(PAPER_TASKS[task])
        else:
            raise ValueError(f"no record for task {task!r} and it is not a paper task: pass ideal=")
    head = f"{task}, H={int(hidden)}, L2={float(l2):g}, seed {int(seed)}, threshold {float(threshold):g}"
    fig, ax = plt.subplots(figsize=(4.6, 4.8), layout="constrained")
    if record is None:
        plots.seed_spectra([], ideal, ax=ax, title=f"{head}\npending: not run yet")
    elif record.get("status") != "ok":
        plots.seed_spectra(
            [],
            ideal,
            ax=ax,
            title=f"{head}\nfailed: {(record.get('error') or {}).get('type', '?')}",
        )
    else:
        m = record["metrics"]
        err = "—" if m["spectral_error"] is None else f"{m['spectral_error']:.4f} rad"
        plots.seed_spectra(
            [plots.record_eigenvalues(record)],
            ideal,
            ax=ax,
            labels=["trained W"],
            title=f"{head}\naccuracy {m['accuracy']:.3f}, modes {m['n_model']}/{m['n_ideal']}, "
            f"error {err}",
        )
    return fig, record


def universality_explorer(records=None, config=None):
    """Pick a task, hidden size, L2, seed and curriculum threshold of a sweep and see that run's
    spectrum against Φ with its metrics (chapter "Universality").  Defaults to the book's shipped
    Table 1 grid (:func:`emtlib.sweep.shipped`); the choices come from ``config`` (a
    :class:`~emtlib.sweep.SweepConfig`) or, without one, from the records."""
    import ipywidgets as w
    import matplotlib.pyplot as plt

    if records is None and config is None:
        from emtlib.sweep import shipped

        config, records, _ = shipped("table1")
    if records is None:
        raise ValueError(
            "universality_explorer: pass records (a {run id: record} dict) with the config"
        )
    recs = list(records.values()) if isinstance(records, dict) else list(records)
    if config is not None:
        options = {
            "task": [label for label, _ in config.tasks],
            "hidden": list(config.hidden),
            "l2": list(config.l2),
            "seed": list(config.seeds),
            "threshold": list(config.thresholds),
        }
    else:
        if not recs:
            raise ValueError("universality_explorer needs at least one record (or a config)")
        options = {
            key: sorted({r["config"][key] for r in recs}, key=lambda v: (str(type(v)), v))
            for key in ("task", "hidden", "l2", "seed", "threshold")
        }

    def show(task, hidden, l2, seed, threshold):
        universality_explorer_view(task, hidden, l2, seed, threshold, records=recs)
        plt.show()

    def dropdown(key, label):
        values = options[key]
        return w.Dropdown(
            options=[(f"{v:g}" if isinstance(v, float) else str(v), v) for v in values],
            value=values[0],
            description=label,
        )

    return w.interactive(
        show,
        task=dropdown("task", "task"),
        hidden=dropdown("hidden", "hidden"),
        l2=dropdown("l2", "L2"),
        seed=dropdown("seed", "seed"),
        threshold=dropdown("threshold", "threshold"),
    )
