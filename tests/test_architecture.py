"""
The layout is the architecture (docs/architecture.md): checks that .importlinter's contracts cannot state.

``lint-imports`` (the lint env) checks the layers; here: no import cycle anywhere in our packages
(imports inside functions included, which is how the one we had was hidden), and no rule or wording
module reaching for the database (import-linter cannot name a subpackage of Django).
"""
import ast
import pathlib

import grimp
import pytest

import miiwrap_fidelity

PACKAGES = ("miiwrap_fidelity", "miiwrap_xblocks")
PACKAGE_DIR = pathlib.Path(miiwrap_fidelity.__file__).parent


def import_cycles(graph):
    """Every strongly connected group of more than one module (Tarjan), each as a sorted tuple."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(tuple(sorted(group)))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def test_no_module_imports_itself_through_others(graph):
    assert import_cycles(graph) == []


def test_the_cycle_check_finds_a_cycle_hidden_in_a_function(graph):
    # The shape we had: two api modules, one importing the other inside a function.
    graph.add_import(importer="miiwrap_fidelity.api.rubrics", imported="miiwrap_fidelity.api.status")
    try:
        assert any("miiwrap_fidelity.api.status" in group and "miiwrap_fidelity.api.rubrics" in group
                   for group in import_cycles(graph))
    finally:
        graph.remove_import(importer="miiwrap_fidelity.api.rubrics", imported="miiwrap_fidelity.api.status")


def _imported_names(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            yield node.module


@pytest.mark.parametrize("layer", ["rules", "wording"])
def test_rules_and_wording_never_reach_the_database(layer):
    reaching = {f"{path.relative_to(PACKAGE_DIR)}: {name}"
                for path in sorted((PACKAGE_DIR / layer).glob("*.py"))
                for name in _imported_names(path) if name == "django.db" or name.startswith("django.db.")}
    assert not reaching


def undocumented_api_functions(source):
    """Public functions of an api module's ``source`` whose docstring lacks its Args or Returns."""
    missing = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        if any(isinstance(d, ast.Name) and d.id == "overload" for d in node.decorator_list):
            continue  # the signatures of one function: its implementation carries the docstring
        doc = ast.get_docstring(node) or ""
        parameters = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
        returns_none = isinstance(node.returns, ast.Constant) and node.returns.value is None
        if not doc or (parameters and "Args:" not in doc) or (not returns_none and "Returns:" not in doc):
            missing.append(node.name)
    return missing


def test_every_public_api_function_says_its_args_and_returns():
    """Issue 27: the door is documented (mypy, in the lint env, checks that it is typed)."""
    missing = {path.name: names for path in sorted((PACKAGE_DIR / "api").glob("*.py"))
               if (names := undocumented_api_functions(path.read_text(encoding="utf-8")))}
    assert missing == {}


def test_the_documentation_check_finds_a_missing_section():
    assert undocumented_api_functions('def f(a: int) -> int:\n    """Twice a.\n\n    Returns:\n        2a.\n    """') == ["f"]
    assert undocumented_api_functions('def f() -> None:\n    """Nothing."""') == []


def signal_connections(source):
    """Line numbers of ``<signal>.connect(...)`` calls and ``@receiver`` decorators in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect":
            found.append(node.lineno)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found += [d.lineno for d in node.decorator_list
                      if isinstance(d, ast.Call) and getattr(d.func, "id", getattr(d.func, "attr", "")) == "receiver"]
    return found


def test_receivers_are_connected_in_one_place():
    """Issue 27: every receiver is connected in hooks/receivers.py (the plugin's signals_config names it too)."""
    roots = [PACKAGE_DIR, PACKAGE_DIR.parent / "xblocks" / "miiwrap_xblocks"]
    elsewhere = {str(path.relative_to(PACKAGE_DIR.parent)): lines
                 for root in roots for path in sorted(root.rglob("*.py"))
                 if path != PACKAGE_DIR / "hooks" / "receivers.py" and "migrations" not in path.parts
                 and (lines := signal_connections(path.read_text(encoding="utf-8")))}
    assert elsewhere == {}
    assert signal_connections((PACKAGE_DIR / "hooks" / "receivers.py").read_text(encoding="utf-8"))
    assert sorted(signal_connections("@receiver(post_save)\ndef f(sender, **kw):\n    pass\nsignal.connect(f)")) == [1, 4]


def test_every_error_the_api_offers_is_a_miiwrap_error():
    """Issue 27: one base class; an entry point that maps ``MiiwrapError`` maps every kind."""
    from miiwrap_fidelity import api  # pylint: disable=import-outside-toplevel

    errors = {name: value for name, value in vars(api).items()
              if isinstance(value, type) and issubclass(value, BaseException)}
    assert {"NotFound", "PermissionDenied", "ValidationError", "Conflict", "WriteConflict"} <= set(errors)
    assert {name for name, error in errors.items() if not issubclass(error, api.MiiwrapError)} == set()
