"""Every printed solution runs as pasted into its notebook's exercise cell, and passes its check.

For each notebook with exercises (cells that call ``ex.qN.check(...)``), a kernel runs in fast mode:
the notebook's first two code cells (setup, imports), the earlier cells that define the names the exercises use
(found by reading the code, so that a notebook's training is not rerun just to reach its exercises),
the ``from cnnlearn.exercises import ... as ex`` cell, and then each exercise cell as a learner would
leave it after pasting the solution: the cell's own lines other than the stub (``answer = ...``, a
``def`` whose body is ``...``) and the check, then the text ``ex.qN.solution()`` prints, then
``assert ex.qN.check(<what the cell checks>)``. A thought question's model answer must be text.

Names a solution may use: what the notebook defines before its exercises, as the learner has them.
The capstone's solution trains for 20 epochs (a minute or two on 2 CPU cores) and each training
experiment for seconds: those tests are marked ``slow`` (``-m "not slow"`` leaves them out).
"""

import ast
import functools
import importlib
import os
import re
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHECK = re.compile(r"\bex\.(q\d+)\.check\(")
EXERCISES_IMPORT = re.compile(r"from cnnlearn\.exercises import (\w+) as ex\b")
# Verdicts as plain text, so a failing check's message shows in this test's report.
PLAIN_TEXT = "from cnnlearn.exercises import questions as _questions\n_questions._in_notebook = lambda: False"


def python_of(source):
    """A code cell as Python (IPython's %magics made into calls)."""
    return TransformerManager().transform_cell(source)


def scope(body, params=()):
    """The names a block of code binds, and those it reads from outside (its free names).

    Function, lambda and comprehension bodies are scopes of their own: their parameters and
    local variables are not the notebook's names.
    """
    bound, read, inner, stack = set(params), set(), [], list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if not isinstance(node, ast.Lambda):
                bound.add(node.name)
                stack.extend(node.decorator_list)
            stack.extend(node.args.defaults + [d for d in node.args.kw_defaults if d is not None])
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            names = [a.arg for a in arguments + [node.args.vararg, node.args.kwarg] if a is not None]
            inner.append((node.body if isinstance(node.body, list) else [node.body], names))
        elif isinstance(node, ast.ClassDef):
            bound.add(node.name)
            stack.extend(node.bases + node.decorator_list)
            inner.append((node.body, ()))
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            targets = {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            parts += [g.iter for g in node.generators] + [i for g in node.generators for i in g.ifs]
            inner.append((parts, targets))
        else:
            if isinstance(node, ast.Name):
                (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bound.add(node.name)
            stack.extend(ast.iter_child_nodes(node))
    for inner_body, inner_params in inner:
        read |= scope(inner_body, inner_params)[1]
    return bound, read - bound


def defined_and_used(source):
    """The names a cell binds in the notebook's namespace, and the notebook's names it reads."""
    return scope(ast.parse(python_of(source)).body)


def is_stub(statement):
    """``answer = ...`` or a ``def`` whose body is only ``...``, ``pass`` or a docstring."""
    if isinstance(statement, ast.Assign):
        return isinstance(statement.value, ast.Constant) and statement.value.value is Ellipsis
    if isinstance(statement, ast.FunctionDef):
        return all(isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
                   for s in statement.body)
    return False


def checked_name(statement, question):
    """``X`` when the statement is ``ex.<question>.check(X)``, else None."""
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        call = statement.value
        if ast.unparse(call.func) == f"ex.{question}.check" and len(call.args) == 1:
            return ast.unparse(call.args[0])
    return None


def pasted_cell(source, question):
    """The exercise cell after pasting ``question``'s solution: its other lines, the solution, the check."""
    kept, checked = [], None
    for statement in ast.parse(source).body:
        name = checked_name(statement, question.name)
        if name is not None:
            checked = name
        elif not is_stub(statement):
            kept.append(ast.unparse(statement))
    assert checked, f"no ex.{question.name}.check(...) call in the cell:\n{source}"
    return "\n".join(kept + [question._solution, f"assert ex.{question.name}.check({checked})"])


@functools.lru_cache(maxsize=None)
def exercises_of(notebook):
    """The exercise module's name, the cells up to its import, and the exercise cells as (question name, source)."""
    cells = [cell.source for cell in nbformat.read(NOTEBOOKS / notebook, as_version=4).cells
             if cell.cell_type == "code"]
    (start,) = [i for i, source in enumerate(cells) if EXERCISES_IMPORT.search(source)]
    topic = EXERCISES_IMPORT.search(cells[start]).group(1)
    exercises = [(CHECK.search(source).group(1), source) for source in cells[start:] if CHECK.search(source)]
    return topic, cells[:start + 1], exercises


NOTEBOOKS_WITH_EXERCISES = sorted(path.name for path in NOTEBOOKS.glob("[0-9]*.ipynb")
                                  if CHECK.search(path.read_text()))


def setup_cells(before, exercise_sources):
    """The setup and imports cells, the exercises' import, and the earlier cells that define what the
    exercises read."""
    needed = set().union(*(defined_and_used(source)[1] for source in exercise_sources))
    chosen = {0, 1, len(before) - 1}
    for i in range(len(before) - 2, 1, -1):
        defined, used = defined_and_used(before[i])
        if defined & needed:
            chosen.add(i)
            needed |= used
    return [before[i] for i in sorted(chosen)]


def question_of(notebook, name):
    topic = exercises_of(notebook)[0]
    return getattr(importlib.import_module(f"cnnlearn.exercises.{topic}"), name)


def trains(question):
    """A training experiment, or the capstone project: seconds to minutes each."""
    return type(question).__name__ in ("ExperimentQuestion", "ProjectQuestion")


@functools.lru_cache(maxsize=None)
def run(notebook, names):
    """Execute ``notebook``'s exercises ``names`` with their solutions pasted in.

    Returns {question name: (ok, what it printed)}, plus "setup" if a setup cell failed.
    """
    from nbclient import NotebookClient

    cells = {}
    for name, source in exercises_of(notebook)[2]:
        question = question_of(notebook, name)
        if name not in names:
            continue
        if type(question).__name__ == "ThoughtQuestion":
            cells[name] = (f"assert isinstance(ex.{name}._solution, str) and ex.{name}._solution.strip()\n"
                           f"assert ex.{name}.check(ex.{name}._solution)")
        else:
            cells[name] = pasted_cell(source, question)
    setup = setup_cells(exercises_of(notebook)[1], list(cells.values()))
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(source) for source in [*setup, PLAIN_TEXT]]
    for name, source in cells.items():
        nb.cells.append(nbformat.v4.new_code_cell(source, metadata={"question": name}))
    environment = {"CNNLEARN_FAST": "1", "MPLBACKEND": "Agg"}
    saved = {key: os.environ.get(key) for key in environment}
    os.environ.update(environment)  # the kernel inherits this process's environment
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    finally:
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)
    results = {}
    for cell in nb.cells:
        text = "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")
        errors = [f"{o.ename}: {o.evalue}" for o in cell.outputs if o.output_type == "error"]
        if "question" in cell.metadata:
            results[cell.metadata["question"]] = (not errors, text + "\n".join(errors))
        elif errors:  # a setup cell failed: every exercise after it would fail for that reason
            results.setdefault("setup", (False, f"setup cell failed: {errors}\n{cell.source[:300]}"))
    return results


def case(notebook, name):
    """One test per question; the ones that train are marked slow (deselect with -m "not slow")."""
    slow = trains(question_of(notebook, name))
    return pytest.param(notebook, name, id=f"{notebook[:2]}-{name}", marks=[pytest.mark.slow] if slow else [])


CASES = [case(notebook, name) for notebook in NOTEBOOKS_WITH_EXERCISES for name, _ in exercises_of(notebook)[2]]


def test_every_exercise_notebook_is_found():
    assert len(NOTEBOOKS_WITH_EXERCISES) >= 8, NOTEBOOKS_WITH_EXERCISES
    assert all(len(exercises_of(notebook)[2]) >= 1 for notebook in NOTEBOOKS_WITH_EXERCISES)


@pytest.mark.parametrize("notebook", NOTEBOOKS_WITH_EXERCISES)
def test_every_question_of_the_module_is_asked_in_its_notebook(notebook):
    """A question the notebook has no cell for would escape the test above."""
    topic, _, exercises = exercises_of(notebook)
    module = importlib.import_module(f"cnnlearn.exercises.{topic}")
    defined = {name for name, value in vars(module).items() if re.fullmatch(r"q\d+", name) and hasattr(value, "check")}
    assert sorted(name for name, _ in exercises) == sorted(defined, key=lambda n: int(n[1:])), topic


@functools.lru_cache(maxsize=None)
def selected(session):
    """{notebook: the questions this session tests}: each notebook's kernel runs only those, once."""
    chosen = {}
    for item in session.items:
        # session.items holds nbval's notebook cells too, which are not functions: getattr
        if getattr(item, "originalname", None) == "test_the_printed_solution_runs_as_pasted_and_passes":
            chosen.setdefault(item.callspec.params["notebook"], set()).add(item.callspec.params["name"])
    return {notebook: frozenset(names) for notebook, names in chosen.items()}


@pytest.mark.parametrize("notebook, name", CASES)
def test_the_printed_solution_runs_as_pasted_and_passes(notebook, name, request):
    results = run(notebook, selected(request.session)[notebook])
    setup_ok, setup_message = results.get("setup", (True, ""))
    assert setup_ok, setup_message
    ok, printed = results[name]
    assert ok, f"{notebook} {name}: the pasted solution failed:\n{printed}"


# --- how the cells are read ----------------------------------------------------------------------

class FakeQuestion:
    name = "q2"
    _solution = "def my_double(x):\n    return 2 * x"


def test_a_pasted_cell_drops_the_stub_and_keeps_the_check():
    cell = ("x = 3\ndef my_double(x):\n    ...  # your code here\n\nanswer = ...  # a number\n"
            "ex.q2.check(my_double);\n# ex.q2.hint()")
    assert pasted_cell(cell, FakeQuestion()) == ("x = 3\ndef my_double(x):\n    return 2 * x\n"
                                                 "assert ex.q2.check(my_double)")


def test_only_the_notebooks_names_count_not_a_functions_own():
    source = ("import numpy as np\ndef f(x, k=3):\n    y = [i * x for i in range(k)]\n    return np.sum(y) + z\n"
              "g = lambda a: a + w\nclass C:\n    v = u\nresult = f(1)")
    assert defined_and_used(source) == ({"np", "f", "g", "C", "result"}, {"z", "w", "u", "range"})


def test_setup_takes_the_cells_that_define_what_the_exercises_read():
    before = ["%matplotlib inline\nimport numpy as np", "images = np.zeros(3)", "model = 1", "unused = 2",
              "labels = images + 1", "from cnnlearn.exercises import pooling as ex"]
    assert setup_cells(before, ["answer = labels.sum()"]) == [before[0], before[1], before[4], before[5]]
