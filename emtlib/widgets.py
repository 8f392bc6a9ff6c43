"""The book's interactive explorers (ipywidgets).

Every explorer is a function returning a widget; a chapter displays it and, beside it, a static
figure of the same behaviour (the explorer's ``*_view`` function) so that a reader without a kernel
still sees it.  Widgets sit on top of the library: this module may import any other emtlib module,
and none of them imports it.  Explorers of trained networks take the models (or their records) as
arguments; a model is given either as a ``(model, task)`` pair or as a model that carries its lab
record on ``.record`` (as :func:`emtlib.lab.zoo.load` returns it).  ipywidgets is imported only
when an explorer is built.
"""

from __future__ import annotations

import html

import matplotlib.pyplot as plt
import numpy as np

from . import gsemm, plots
from .basis import decode, neuron_basis, privileged_basis, probe_basis
from .circuit import build_circuit, ideal_hidden_states, saturation_level
from .interventions import predicted_outputs, run_with_intervention
from .spectra import eigenvalues, ideal_eigenvalues, spectral_error
from .tasks import PAPER_TASKS, Task, random_task
from .train import evaluate


def _model_and_task(value, name="model"):
    """``(model, task)`` from a ``(model, task)`` pair or a model carrying its record."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], Task):
        return value
    record = getattr(value, "record", None)
    spec = getattr(record, "spec", None)
    if spec is not None and hasattr(spec, "task_object"):
        return value, spec.task_object
    raise TypeError(
        f"{name} must be a (model, task) pair or a model with its lab record on .record, "
        f"got {type(value).__name__}"
    )


def _models(models, who):
    """``models`` (a dict name -> model or (model, task)) as a dict name -> (model, task)."""
    if not isinstance(models, dict) or not models:
        raise ValueError(f"{who} needs a non-empty dict of models, name -> model")
    return {name: _model_and_task(value, name) for name, value in models.items()}


# --- GSEMM chapters ---
def basis_change_explorer(M=None):
    """Rotate and stretch a basis of the plane and watch the matrix of ``M`` change while its
    eigenvalues stay (chapter "Bases, dual bases and Dirac notation")."""
    import ipywidgets as w

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


# == chapter: gsemm_to_rnn ========================================================================
def reduction_explorer_view(model, V_f0, t_end=20.0, T_h=0.1, T_d=100.0, dt=1.0, axes=None):
    """The static figure of :func:`reduction_explorer`: ``model`` with time constants ``T_h`` and
    ``T_d``, run in continuous time, against Euler steps of size ``dt`` of its fast limit (``dt =
    T_f`` is the discrete map of the reduction), with their distance. Chapter "From GSEMM to RNNs".
    Returns ``(figure, comparison)`` (an :class:`emtlib.gsemm.FlowAndMap`)."""
    if not isinstance(model, gsemm.GSEMM):
        raise TypeError(f"model must be a GSEMM, got {type(model).__name__}")
    comparison = gsemm.compare_flow_and_map(model.replace(T_h=T_h, T_d=T_d), V_f0, t_end, dt=dt)
    title = f"$T_h$ = {T_h:g}, $T_d$ = {T_d:g}, step $\\Delta t$ = {dt:g}"
    fig = plots.flow_and_map(comparison, model.Xi, axes=axes, title=title)
    return fig, comparison


def reduction_explorer(model, V_f0, t_end=20.0):
    """Move the hidden and delay time constants and the Euler step, and compare the continuous
    GSEMM with the discrete map of its fast limit (chapter "From GSEMM to RNNs")."""
    import ipywidgets as w

    def show(T_h=0.1, T_d=100.0, dt=1.0):
        reduction_explorer_view(model, V_f0, t_end, T_h, T_d, dt)
        plt.show()

    def log_slider(value, low, high, description):
        return w.FloatLogSlider(
            value=value,
            base=10,
            min=low,
            max=high,
            step=0.25,
            description=description,
            continuous_update=False,
        )

    return w.interactive(
        show,
        T_h=log_slider(0.1, -2.5, 0, "T_h"),
        T_d=log_slider(100.0, -2.5, 2, "T_d"),
        dt=log_slider(1.0, -2, 0, "step Δt"),
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
    import ipywidgets as widgets
    from IPython.display import display

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
            fig, (ax1, ax2) = plt.subplots(
                2, 1, figsize=(8.5, 2.4 + 0.5 * task.d), layout="constrained"
            )
            plots.task_operator(task, ax=ax1, colorbar=False)
            plots.task_sequence(
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
def training_explorer_view(model, horizon, batches=1, seed=0, name="model"):
    """Draw a trained model's eigenvalues against its task's Φ and print its accuracy at
    ``horizon`` (chapter "Training RNNs on variable binding").  ``model`` is a ``(model, task)``
    pair or a model with its record.  Returns ``(figure, accuracy)``."""
    model, task = _model_and_task(model)
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


def training_explorer(models, horizons=(200, 1000, 10000)):
    """Pick a trained model and a test horizon; see its spectrum against Φ and its accuracy
    (chapter "Training RNNs on variable binding").  ``models`` maps names to models (see the
    module docstring), e.g. ``{name: zoo.load(name) for name in names}``."""
    import ipywidgets as w

    models = _models(models, "training_explorer")
    names = list(models)

    def show(name, horizon):
        training_explorer_view(models[name], horizon, name=name)
        plt.show()

    return w.interactive(
        show,
        name=w.Dropdown(options=names, value=names[0], description="model"),
        horizon=w.Dropdown(options=list(horizons), value=horizons[0], description="horizon"),
    )


# --- chapter: The privileged basis and hidden neurons ---
#: The bases the basis explorer offers (chapter "The privileged basis and hidden neurons").
BASIS_GROUNDINGS = ("input", "output", "observer", "probe")


def _basis_run(model, task, grounding, horizon, seed):
    """The basis of ``model`` and one decoded sequence with its ideal windows (chapter "The
    privileged basis and hidden neurons")."""
    if grounding == "probe":
        basis = probe_basis(model, task, seed=seed)
    else:
        basis = privileged_basis(model, task, grounding=grounding)
    inputs, _ = task.sample(1, horizon, seed=seed)
    decoded = decode(model, basis, inputs.numpy()[:, 0])  # (T, s, d)
    ideal = ideal_hidden_states(task, inputs.numpy()[: task.s, 0], horizon)
    ideal = np.where(np.isnan(decoded), np.nan, ideal.reshape(-1, task.s, task.d))
    return basis, decoded, ideal


def basis_explorer_view(model, grounding, t, horizon=30, seed=0, name="model", run=None):
    """Draw step ``t`` of one sequence of ``model`` (a ``(model, task)`` pair or a model with its
    record) read in its privileged basis (``grounding`` one of :data:`BASIS_GROUNDINGS`) beside
    the task's ideal window (chapter "The privileged basis and hidden neurons").  ``run`` reuses
    a result of the same model, grounding, horizon and seed.  Returns ``(figure, wrong)``,
    ``wrong`` the number of kept coordinates whose decoded sign differs from the ideal one."""
    model, task = _model_and_task(model)
    if grounding not in BASIS_GROUNDINGS:
        raise ValueError(f"grounding must be one of {BASIS_GROUNDINGS}, got {grounding!r}")
    basis, decoded, ideal = run or _basis_run(model, task, grounding, horizon, seed)
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


def basis_explorer(models, horizon=30, seed=0):
    """Step through one sequence of a trained model read in its privileged basis: watch the
    variables move from slot to slot and the newest slot being composed from older ones
    (chapter "The privileged basis and hidden neurons").  ``models`` maps names to models (see
    the module docstring)."""
    import ipywidgets as w

    models = _models(models, "basis_explorer")
    names = list(models)
    runs = {}

    def show(name, grounding, t):
        model, task = models[name]
        key = (name, grounding)
        if key not in runs:
            runs[key] = _basis_run(model, task, grounding, horizon, seed)
        basis_explorer_view(models[name], grounding, t, horizon, seed, name=name, run=runs[key])
        plt.show()

    start = next((n for n in names if n.startswith("T2")), names[0])
    window = min(task.s for _, task in models.values())
    return w.interactive(
        show,
        name=w.Dropdown(options=names, value=start, description="model"),
        grounding=w.ToggleButtons(
            options=list(BASIS_GROUNDINGS), value="observer", description="basis"
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
#: The bases the intervention explorer offers, by name (chapter "Interventions").
INTERVENTION_BASES = ("fitted", "observer", "output", "input", "neurons")


def intervention_basis(model, task, variant):
    """The basis ``variant`` (one of :data:`INTERVENTION_BASES`) of ``model`` for ``task``
    (chapter "Interventions"): ``"fitted"`` the probe basis fitted to hidden states, ``"neurons"``
    the single-neuron control, the others :func:`~emtlib.basis.privileged_basis` groundings."""
    if variant not in INTERVENTION_BASES:
        raise ValueError(f"basis must be one of {INTERVENTION_BASES}, got {variant!r}")
    if variant == "fitted":
        return probe_basis(model, task, estimator="basis", seed=0)
    if variant == "neurons":
        return neuron_basis(model, task, seed=0)
    return privileged_basis(model, task, grounding=variant)


def intervention_explorer_view(
    model, variant, slot, t, flip, seed=0, horizon=40, name="model", basis=None
):
    """Edit one stored variable of ``model`` (a ``(model, task)`` pair or a model with its record)
    and draw the unedited run, the edited run and the task's prediction (chapter "Interventions").

    ``variant`` is one of :data:`INTERVENTION_BASES` (``basis``: that basis, already built); at
    step ``t`` (output phase) the signs of
    components ``flip`` of slot ``slot`` are reversed (components the basis does not hold in that
    slot are skipped and named in the title).  Returns ``(figure, wrong)``, ``wrong`` the number of
    outputs after the edit whose sign differs from the prediction.
    """

    model, task = _model_and_task(model)
    basis = intervention_basis(model, task, variant) if basis is None else basis
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


def intervention_explorer(models, horizon=40):
    """Pick a trained model, a basis, a slot, a step and the signs to reverse; see whether the
    network's outputs follow the task's prediction (chapter "Interventions").  ``models`` maps
    names to models (see the module docstring)."""
    import ipywidgets as w

    models = _models(models, "intervention_explorer")
    names = list(models)
    s, d = min(task.s for _, task in models.values()), min(task.d for _, task in models.values())
    bases = {}

    def show(name, variant, slot, t, flip, seed):
        model, task = models[name]
        if (name, variant) not in bases:
            bases[name, variant] = intervention_basis(model, task, variant)
        intervention_explorer_view(
            models[name], variant, slot, t, flip, seed, horizon, name, bases[name, variant]
        )
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
#: The grid keys of a sweep's records the universality explorer offers.
GRID_KEYS = ("task", "hidden", "l2", "seed", "threshold")


def _grid_value(record, key):
    return record.spec.label if key == "task" else getattr(record.spec, key)


def _grid_order(value):
    """Sort key of grid values: numbers by size, then strings, then None."""
    return (value is None, isinstance(value, str), 0 if value is None else value)


def _grid_lookup(records, point):
    """The record at one grid point (a dict over :data:`GRID_KEYS`), or None."""
    for r in records:
        if all(_grid_value(r, key) == value for key, value in point.items()):
            return r
    return None


def universality_explorer_view(task, hidden, l2, seed, threshold, records, ideal=None, horizon=200):
    """Draw one run of a sweep: its eigenvalues against the task's Φ, with its accuracy at
    ``horizon``, long-lived modes and spectral error in the title (chapter "Universality").

    ``records`` are lab records (:class:`emtlib.lab.record.Record`), a list or a ``{run id: record}``
    dict; ``task`` a task label of theirs (``"T1"`` ... ``"T4"`` for the book's grid);
    ``threshold`` the curriculum threshold of the runs (None: the recipe's own); ``ideal`` Φ's
    eigenvalues (default: from the record's task, or :data:`~emtlib.tasks.PAPER_TASKS`).  A grid
    point without a record is drawn as Φ alone, marked "pending".  Returns
    ``(figure, record or None)``.
    """
    records = list(records.values()) if isinstance(records, dict) else list(records)
    point = dict(zip(GRID_KEYS, (task, hidden, l2, seed, threshold)))
    record = _grid_lookup(records, point)
    if ideal is None:
        if record is not None:
            ideal = ideal_eigenvalues(record.spec.task_object)
        elif task in PAPER_TASKS:
            ideal = ideal_eigenvalues(PAPER_TASKS[task])
        else:
            raise ValueError(f"no record for task {task!r} and it is not a paper task: pass ideal=")
    rule = "recipe's" if threshold is None else f"{float(threshold):g}"
    head = f"{task}, H={int(hidden)}, L2={float(l2):g}, seed {int(seed)}, threshold {rule}"
    fig, ax = plt.subplots(figsize=(4.6, 4.8), layout="constrained")
    if record is None:
        plots.seed_spectra([], ideal, ax=ax, title=f"{head}\npending: not run yet")
    elif not record.ok:
        reason = record.error.split(":")[0]
        plots.seed_spectra([], ideal, ax=ax, title=f"{head}\nfailed: {reason}")
    else:
        m = record.metrics
        err = "—" if m.spectral_error is None else f"{m.spectral_error:.4f} rad"
        plots.seed_spectra(
            [plots.record_eigenvalues(record)],
            ideal,
            ax=ax,
            labels=["trained W"],
            title=f"{head}\naccuracy {m.accuracy[horizon]:.3f}, modes "
            f"{m.n_long_lived_model}/{m.n_long_lived_ideal}, error {err}",
        )
    return fig, record


def universality_explorer(records, grid=None, horizon=200):
    """Pick a task, hidden size, L2, seed and curriculum threshold of a sweep and see that run's
    spectrum against Φ with its metrics (chapter "Universality").  ``records`` are the sweep's lab
    records; ``grid`` maps each of :data:`GRID_KEYS` to the values to offer (default: those in the
    records; give it to offer grid points not run yet)."""
    import ipywidgets as w

    recs = list(records.values()) if isinstance(records, dict) else list(records)
    if grid is None:
        if not recs:
            raise ValueError("universality_explorer needs at least one record (or a grid)")
        grid = {
            key: sorted({_grid_value(r, key) for r in recs}, key=_grid_order) for key in GRID_KEYS
        }
    missing = [key for key in GRID_KEYS if not grid.get(key)]
    if missing:
        raise ValueError(f"grid must list values for {missing}")

    def show(task, hidden, l2, seed, threshold):
        universality_explorer_view(task, hidden, l2, seed, threshold, recs, horizon=horizon)
        plt.show()

    def dropdown(key, label):
        values = list(grid[key])
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
