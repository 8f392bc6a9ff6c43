"""The random-basis control of chapter "Interventions" (emtlib.basis.random_basis): edits through
it fail where edits through the privileged basis succeed."""

from emtlib.basis import privileged_basis, random_basis
from emtlib.circuit import build_circuit
from emtlib.interventions import intervention_trials
from emtlib.tasks import PAPER_TASKS


def test_edits_through_a_random_basis_fail_on_the_circuit():
    task = PAPER_TASKS["T1"]
    c = build_circuit(task)
    kw = {"edits": 32, "window": 20, "seed": 0}
    good = intervention_trials(c, task, privileged_basis(c, task, grounding="input"), **kw)
    bad = intervention_trials(c, task, random_basis(c, task, seed=0), **kw)
    assert good.baseline_rate == bad.baseline_rate == 1.0
    assert good.rate > 0.9
    assert bad.rate < 0.2
