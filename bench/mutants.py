"""Plant bugs anywhere in the application, and see which the tests catch.

    .venv/bin/python bench/mutants.py coverage        # which test runs which line (once, ~6 min)
    .venv/bin/python bench/mutants.py run [--jobs 2]  # the sample's mutants, cached by content
    .venv/bin/python bench/mutants.py score [--survivors]
    .venv/bin/python bench/mutants.py show ID

mutmut (`make mutate`) mutates every line of the core modules, but never a module constant, a
class body (model fields, form fields), a decorated function (views, FSM transitions,
properties) or a file outside its list (accounts/, subjects/, the settings). This is the second
tool, for the whole application: every Python file of the five packages but the migrations. It
plants the mutmut-like bugs (a comparison, `and`/`or`, `not`, a number, a string, an operator,
`break`/`continue`, a returned value, an assigned value) and those mutmut lacks: a decorator
dropped (`@login_required`, `@transition`'s permission), a keyword argument dropped
(`conditions=`, `max_length=`), a call statement dropped (`obj.save()`, `audit(...)`).

There are too many (about 15,000) to run all on two cores, so the score is that of a fixed
sample: the mutants whose id hashes below --rate per mille (an id names the function, the kind
and the text changed, so the same mutants are drawn after unrelated changes). Each runs the
tests that executed its lines (from `coverage`, one context per test), quickest first, stopping
at the first failure; then the tests that read declarations rather than run them, where they
can catch it (DECLARATIONS: the translations for a text, the migrations for a model, the
published schema for the API, the admin's and the URL map's walks). A mutant no test reaches
counts as surviving. A line run at import (a constant, a class body, a decorator) runs the tests
of its class or function and of every function that uses a name it defines. Results are kept in
mutants-whole/results.jsonl, keyed by the mutated file's text: a file changed since counts as
not run.

Every survivor must be explained in bench/survivors-whole.txt (a `## reason` line, then ids);
`score --survivors` lists the unexplained ones. PostgreSQL: with DATABASE_URL set to a
postgres:// URL (after `coverage` there too), `run` runs what SQLite left alive, and every
mutant of the code only PostgreSQL runs (the advisory locks, the reconnect after a lost
connection, the migrations that make the audit trail append-only), sampled or not; a mutant
caught on either database counts as caught (CI runs the suite on both).
"""

import argparse
import ast
import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from coverage_per_test import SESSION  # bench/: the context of what runs outside any test

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("incidents", "notifications", "accounts", "subjects", "incident_manager")
STATE = ROOT / "mutants-whole"
LEDGER = ROOT / "bench" / "survivors-whole.txt"
# Tests that read declarations rather than run a line: they run for the mutants they can catch,
# after the tests coverage chose. (path ending or "" for all, mutant kind or "" for all, tests)
DECLARATIONS = [
    (
        "",
        "string",
        [
            "tests/test_translations.py::"
            "test_every_text_the_code_marks_for_translation_is_translated"
        ],
    ),
    ("models.py", "", ["tests/test_commands.py::test_the_migrations_make_the_models_as_they_are"]),
    ("fields.py", "", ["tests/test_commands.py::test_the_migrations_make_the_models_as_they_are"]),
    ("api.py", "", ["tests/test_api.py::test_the_api_is_the_one_published_to_its_clients"]),
    ("api_schema.py", "", ["tests/test_api.py::test_the_api_is_the_one_published_to_its_clients"]),
    (
        "admin.py",
        "",
        [
            "tests/test_admin.py",
            "tests/test_commands.py::test_the_system_checks_find_nothing_wrong",
        ],
    ),
    # Who may open a page is declared on it (a decorator): a refused request never runs the
    # view's body, so coverage cannot say which tests check it. These walk every route.
    *[
        (
            ending,
            "",
            [
                "tests/test_web.py::test_every_route_but_the_public_ones_needs_a_login",
                "tests/test_web.py::test_a_person_without_a_role_sees_only_their_own_account",
            ],
        )
        for ending in ("urls.py", "views.py")
    ],
    # The reconnect after a lost connection (PostgreSQL): a test loses the connection on
    # purpose, and the database for longer than the retries, which coverage cannot foresee.
    (
        "notifications/sending.py",
        "",
        [
            "tests/test_lost_connections.py::"
            "test_a_database_gone_longer_than_the_retries_leaves_the_message_to_be_reclaimed"
        ],
    ),
    # A viewset's declarations (its queryset, its serializer) run in DRF's code, not ours.
    (
        "api.py",
        "",
        ["tests/test_api.py::test_an_integrator_reads_the_ids_and_names_that_assess_takes"],
    ),
    (
        "forms.py",
        "",
        ["tests/test_translations.py::test_every_field_of_every_form_is_labelled_in_dutch"],
    ),
]
SELECTION = "6"  # the way tests are chosen: a new one runs the survivors again
RATE = 15  # per mille of all mutants: about 225
# The two migrations that make the audit trail append-only in PostgreSQL itself (triggers). They
# run before any test, so coverage cannot say who reaches them: these tests do. A mutant of them
# migrates its test database from nothing instead of copying the template.
MIGRATIONS = {
    "incidents/migrations/0003_append_only_audit.py": [
        "tests/test_concurrency.py::test_the_database_refuses_to_rewrite_the_audit_trail",
        "tests/test_concurrency.py::test_the_append_only_migrations_are_undone_and_done_again",
    ],
    "incidents/migrations/0009_reference_changes_append_only.py": [
        "tests/test_concurrency.py::"
        "test_the_database_refuses_to_rewrite_the_record_of_reference_changes",
        "tests/test_concurrency.py::test_the_append_only_migrations_are_undone_and_done_again",
    ],
}


@dataclass(frozen=True)
class Mutant:
    id: str
    path: str
    line: int
    end_line: int
    start: int  # byte offsets in the file
    end: int
    replacement: str
    scope: str
    kind: str
    # A line run at import time (a module constant, a class body, a decorator): coverage names
    # whichever test imported the module first, so its tests are those that run the lines of
    # its class or decorated function (reach), or a line of any function that uses one of the
    # names its statement defines (names); else those of its file.
    at_import: bool
    reach: tuple | None
    names: tuple
    postgres_only: bool = False  # in code only PostgreSQL runs (Planter.postgres_only_lines)

    def apply(self, source: bytes) -> bytes:
        return source[: self.start] + self.replacement.encode() + source[self.end :]

    def diff(self, source: bytes) -> str:
        before = source[self.start : self.end].decode()
        return f"{self.path}:{self.line} ({self.kind})\n- {before}\n+ {self.replacement}"


SWAPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
OPERATORS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
}


class Planter:
    """The mutants of one file: (node, kind, replacement text) for each planted bug."""

    def __init__(self, path, source):
        self.path, self.source = path, source
        self.found = []
        self.reach, self.names, self.in_function = None, (), False

    def plant(self, node, kind, replacement, scope):
        context = (not self.in_function, self.reach, self.names)
        self.found.append((node, kind, replacement, scope, context))

    def visit(self, node, scope="<module>"):
        if isinstance(node, ast.Module):
            self.body(node.body, scope)
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            inner = node.name if scope == "<module>" else f"{scope}.{node.name}"
            outer = self.reach, self.names, self.in_function
            if not self.in_function and self.reach is None:
                self.reach = (node.lineno, node.end_lineno)  # the outermost class or function
            for decorator in node.decorator_list:
                self.plant(decorator, "decorator dropped", "(lambda f: f)", inner)
                self.visit(decorator, inner)
            if not isinstance(node, ast.ClassDef):
                for default in node.args.defaults + [d for d in node.args.kw_defaults if d]:
                    self.visit(default, inner)
            self.in_function = self.in_function or not isinstance(node, ast.ClassDef)
            self.body(node.body, inner)
            self.reach, self.names, self.in_function = outer
            return
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.arg)):
            return
        if isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.visit(node.value, scope)
            return
        if isinstance(node, ast.JoinedStr):  # an f-string's text parts are not mutated
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    self.visit(value.value, scope)
            return
        self.mutate(node, scope)
        for child in ast.iter_child_nodes(node):
            self.visit(child, scope)

    def body(self, statements, scope):
        first = statements[0] if statements else None
        for statement in statements:
            docstring = (
                statement is first
                and isinstance(statement, ast.Expr)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            )
            if docstring:
                continue
            if not self.in_function:  # a module or class statement: the names it defines
                outer = self.names
                self.names = (*self.names, *defined_names(statement))
                self.visit(statement, scope)
                self.names = outer
            else:
                self.visit(statement, scope)

    def mutate(self, node, scope):
        plant = self.plant
        if isinstance(node, ast.Compare):
            for index, op in enumerate(node.ops):
                if type(op) in SWAPS:
                    copy = ast.Compare(node.left, list(node.ops), node.comparators)
                    copy.ops[index] = SWAPS[type(op)]()
                    plant(node, "comparison", ast.unparse(copy), scope)
        elif isinstance(node, ast.BoolOp):
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            plant(node, "and/or", ast.unparse(ast.BoolOp(other, node.values)), scope)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            plant(node, "not dropped", f"({ast.unparse(node.operand)})", scope)
        elif isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
            copy = ast.BinOp(node.left, OPERATORS[type(node.op)](), node.right)
            plant(node, "operator", f"({ast.unparse(copy)})", scope)
        elif isinstance(node, ast.AugAssign) and type(node.op) in OPERATORS:
            copy = ast.AugAssign(node.target, OPERATORS[type(node.op)](), node.value)
            plant(node, "operator", ast.unparse(copy), scope)
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                plant(node, "boolean", repr(not value), scope)
            elif isinstance(value, (int, float)):
                plant(node, "number", repr(value + 1), scope)
            elif isinstance(value, str) and value:
                plant(node, "string", repr(f"XX{value}XX"), scope)
        elif isinstance(node, ast.Break):
            plant(node, "break/continue", "continue", scope)
        elif isinstance(node, ast.Continue):
            plant(node, "break/continue", "break", scope)
        elif isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                plant(node, "returns None", "return None", scope)
        elif isinstance(node, ast.Assign) and not _is_none(node.value):
            if not (
                len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id.startswith("__")
            ):
                plant(node.value, "assigns None", "None", scope)
        elif isinstance(node, ast.Expr) and isinstance(node.value, (ast.Call, ast.Await)):
            plant(node, "call dropped", "pass", scope)
        if isinstance(node, ast.Call):
            for index, keyword in enumerate(node.keywords):
                if keyword.arg is None:
                    continue
                copy = ast.Call(
                    node.func, node.args, node.keywords[:index] + node.keywords[index + 1 :]
                )
                plant(node, f"argument {keyword.arg}= dropped", ast.unparse(copy), scope)

    def postgres_only_lines(self, tree):
        """The lines of the functions only PostgreSQL runs: those with a block mutmut is told
        to leave alone (`pragma: no mutate block`: SQLite cannot run it), and the migrations
        that make the audit trail append-only."""
        if self.path in MIGRATIONS:
            return set(range(1, self.source.count(b"\n") + 2))
        marked = [
            number
            for number, line in enumerate(self.source.splitlines(), 1)
            if b"pragma: no mutate block" in line
        ]
        lines = set()
        for node in ast.walk(tree):
            function = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            if function and any(node.lineno <= n <= node.end_lineno for n in marked):
                lines.update(range(node.lineno, node.end_lineno + 1))
        return lines

    def mutants(self, tree):
        postgres_only = self.postgres_only_lines(tree)
        offsets = _line_offsets(self.source)
        seen, result = Counter(), []
        for node, kind, replacement, scope, (at_import, reach, names) in self.found:
            start = offsets[node.lineno - 1] + node.col_offset
            end = offsets[node.end_lineno - 1] + node.end_col_offset
            key = (scope, kind, self.source[start:end], replacement)
            seen[key] += 1
            digest = hashlib.sha1(repr(key).encode() + str(seen[key]).encode()).hexdigest()[:10]
            mutant = Mutant(
                f"{self.path}:{digest}",
                self.path,
                node.lineno,
                node.end_lineno,
                start,
                end,
                replacement,
                scope,
                kind,
                at_import,
                reach,
                names,
                node.lineno in postgres_only,
            )
            result.append(mutant)
        return result


def defined_names(statement):
    """The names a module- or class-level statement defines."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return (statement.name,)
    targets = []
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
        targets = [statement.target]
    return tuple(
        node.id for target in targets for node in ast.walk(target) if isinstance(node, ast.Name)
    )


def read_at_import(statement):
    """The names a module-level statement reads when it runs (not in its functions' bodies)."""
    todo = [statement]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Name):
            yield node.id
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            todo += node.decorator_list
            continue
        todo += ast.iter_child_nodes(node)


def _is_none(node):
    return isinstance(node, ast.Constant) and node.value is None


def _line_offsets(source: bytes):
    offsets, total = [], 0
    for line in source.splitlines(keepends=True):
        offsets.append(total)
        total += len(line)
    offsets.append(total)
    return offsets


def sources():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" not in relative and path.stat().st_size:
                yield relative
    yield from MIGRATIONS


def all_mutants(rate=1000, postgres_only=False):
    """Every mutant of the application (or those of the sample, and with postgres_only every
    mutant of the code only PostgreSQL runs), in file order."""
    for relative in sources():
        source = (ROOT / relative).read_bytes()
        planter = Planter(relative, source)
        tree = ast.parse(source)
        planter.visit(tree)
        for mutant in planter.mutants(tree):
            if not (in_sample(mutant, rate) or postgres_only and mutant.postgres_only):
                continue
            try:
                compile(mutant.apply(source), relative, "exec")
            except SyntaxError:
                continue
            yield mutant


def in_sample(mutant, rate):
    return int(hashlib.sha1(mutant.id.encode()).hexdigest()[:8], 16) % 1000 < rate


# Which tests reach which line ----------------------------------------------------------------


def measure_coverage(workers):
    """Run the suite once with bench/coverage_per_test.py: line → the tests that ran it."""
    import coverage

    STATE.mkdir(exist_ok=True)
    for old in [*STATE.glob("coverage*"), *STATE.glob("durations-*.json")]:
        old.unlink()
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "bench")}
    command = [sys.executable, "-m", "pytest", "-p", "coverage_per_test", "-p", "no:cacheprovider"]
    command += ["--numprocesses", str(workers), "--dist", "load"]
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        command.append("--no-migrations")
    # A test that fails here (a timing test on a loaded machine) still ran its lines; only a
    # run that did not finish (exit 2 and above: interrupted, an internal or usage error) stops.
    if subprocess.run(command, cwd=ROOT, env=environment).returncode > 1:
        sys.exit("the suite did not finish: no coverage written")
    data = coverage.CoverageData(basename=str(STATE / "coverage"))
    coverage.Coverage(data_file=str(STATE / "coverage")).combine(keep=False)
    data.read()
    tests, lines = {}, {}
    for filename in data.measured_files():
        relative = Path(filename).relative_to(ROOT).as_posix()
        by_line = data.contexts_by_lineno(filename)
        lines[relative] = {
            # The empty context: run outside any test (Django's setup, the settings, an app's
            # ready(), an import), which every test depends on, as on the session fixtures.
            line: sorted({tests.setdefault(c or SESSION, len(tests)) for c in contexts})
            for line, contexts in by_line.items()
        }
    durations = {}
    for part in STATE.glob("durations-*.json"):
        durations.update(json.loads(part.read_text()))
    names = sorted(tests, key=tests.get)
    index = {
        "tests": names,
        "seconds": [durations.get(name, 1.0) for name in names],
        "lines": lines,
    }
    (STATE / f"index-{backend()}.json").write_text(json.dumps(index))
    print(f"{len(names)} tests over {len(lines)} files: {STATE / f'index-{backend()}.json'}")


class Index:
    def __init__(self):
        text = (STATE / f"index-{backend()}.json").read_text()
        # Which coverage, and which way of choosing from it, chose a result's tests.
        self.stamp = hashlib.sha1((text + SELECTION).encode()).hexdigest()[:10]
        index = json.loads(text)
        self.tests, self.seconds = index["tests"], index["seconds"]
        self.lines = {
            path: {int(line): tests for line, tests in by_line.items()}
            for path, by_line in index["lines"].items()
        }
        self._uses, self._function_lines = None, {}
        # What session fixtures ran (bench/coverage_per_test.py's SESSION context).
        self.session = self.tests.index(SESSION) if SESSION in self.tests else None
        self.seeding = set()  # the mutants of what seeds the test database

    def covering(self, path, first, last):
        """The tests that run a line of a function between first and last (a line run at
        import names whichever test imported the module first: it says nothing)."""
        inside = self.function_lines(path)
        for line, tests in self.lines.get(path, {}).items():
            if first <= line <= last and line in inside:
                yield from tests

    def function_lines(self, path):
        if path not in self._function_lines:
            lines = set()
            for node in ast.walk(ast.parse((ROOT / path).read_bytes())):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    lines.update(range(node.body[0].lineno, node.end_lineno + 1))
            self._function_lines[path] = lines
        return self._function_lines[path]

    def uses(self, names):
        """(path, line) of each line in a function of the application that reads one of names
        (as a name or an attribute), or a name defined at import from one of them (CloseForm
        is read by no function, but ACTION_FORMS, which holds it, is)."""
        if self._uses is None:
            self._uses, self._held_by = defaultdict(set), defaultdict(set)
            for path in sources():
                tree = ast.parse((ROOT / path).read_bytes())
                for function in ast.walk(tree):
                    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        continue
                    for node in ast.walk(function):
                        if isinstance(node, ast.Name):
                            self._uses[node.id].add((path, node.lineno))
                        elif isinstance(node, ast.Attribute):
                            self._uses[node.attr].add((path, node.lineno))
                for statement in tree.body:
                    for name in read_at_import(statement):
                        self._held_by[name].update(defined_names(statement))
        names, todo = set(names), list(names)
        while todo:
            for holder in self._held_by.get(todo.pop(), ()):
                if holder not in names:
                    names.add(holder)
                    todo.append(holder)
        return {use for name in names for use in self._uses.get(name, ())}

    def reaching(self, mutant):
        """The tests to run for a mutant, quickest first, and their seconds together."""
        if mutant.path in MIGRATIONS:
            return MIGRATIONS[mutant.path], 30.0
        by_line = self.lines.get(mutant.path, {})
        chosen = set()
        if not mutant.at_import:
            for line in range(mutant.line, mutant.end_line + 1):
                chosen.update(by_line.get(line, ()))
        else:
            if mutant.reach:
                chosen.update(self.covering(mutant.path, *mutant.reach))
                if not chosen:  # a class of declarations only: the tests of its module
                    chosen.update(self.covering(mutant.path, 1, 10**6))
            # The names of its module-level statement and class; a name it defines inside a
            # class only where it is rare (`kind`, `status` are read everywhere).
            names = [n for n in mutant.names if n[0].isupper() or len(self.uses([n])) < 40]
            for path, line in self.uses(names):
                chosen.update(self.lines.get(path, {}).get(line, ()))
            if not chosen:
                chosen.update(self.covering(mutant.path, 1, mutant.end_line + 10**6))
            if not chosen:  # a file no test runs a line of (the settings, the URLs): all
                chosen = {i for i, name in enumerate(self.tests) if "test_browser" not in name}
        if self.session in chosen:  # the test database's seeded data: every test reads it,
            # from a database seeded by the mutated code (not the template's copy of the real one)
            self.seeding.add(mutant.id)
            chosen = {i for i, name in enumerate(self.tests) if "test_browser" not in name}
        chosen.discard(self.session)
        if not chosen:
            return [], 0.0
        ordered = sorted(chosen, key=lambda i: self.seconds[i])
        names = [self.tests[i] for i in ordered]
        extra = [
            test
            for ending, kind, tests in DECLARATIONS
            if mutant.path.endswith(ending) and mutant.kind.startswith(kind)
            for test in tests
        ]
        return [*names, *dict.fromkeys(extra)], sum(self.seconds[i] for i in ordered)


# Running a mutant ----------------------------------------------------------------------------


def backend():
    return "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"


def results():
    """{(mutant id, backend): the last result}, from results.jsonl."""
    found = {}
    path = STATE / "results.jsonl"
    if path.exists():
        for line in path.read_text().splitlines():
            record = json.loads(line)
            found[record["id"], record["backend"]] = record
    return found


class Worker:
    """A copy of the project where one mutant at a time is written and tested."""

    IGNORE = staticmethod(
        shutil.ignore_patterns(
            ".venv",
            ".git",
            "mutants",
            "mutants-whole",
            "var",
            "test-artifacts",
            "__pycache__",
            "*.sqlite3*",
            "docs",
            "bench",
        )
    )

    def __init__(self, number, template):
        self.place = Path(tempfile.gettempdir()) / f"breachdesk-mutants-{os.getpid()}-{number}"
        shutil.rmtree(self.place, ignore_errors=True)
        shutil.copytree(ROOT, self.place, ignore=self.IGNORE)
        self.number, self.template = number, template

    def environment(self, mutant, seeding):
        environment = {**os.environ, "PYTHONPATH": str(self.place), "PYTHONDONTWRITEBYTECODE": "1"}
        if backend() == "postgresql":
            environment["DATABASE_URL"] = f"{os.environ['DATABASE_URL']}_mutant{self.number}"
        if mutant.path not in MIGRATIONS and not seeding:
            environment["TEST_DATABASE_TEMPLATE"] = self.template
        return environment

    def run(self, mutant, tests, seconds, seeding=False):
        target = self.place / mutant.path
        original = target.read_bytes()
        stat = target.stat()
        mutated = mutant.apply(original)
        target.write_bytes(mutated)
        os.utime(target, (stat.st_atime, stat.st_mtime + 100))
        arguments = self.place / "selected-tests"
        arguments.write_text("\n".join(tests))
        command = [sys.executable, "-m", "pytest", "-x", "-p", "no:cacheprovider"]
        command += ["-W", "ignore", f"@{arguments}"]
        if backend() == "sqlite":
            command.append("--no-migrations")
        started = time.monotonic()
        limit = 60 + 3 * seconds
        process = subprocess.Popen(
            command,
            cwd=self.place,
            env=self.environment(mutant, seeding),
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            output, _ = process.communicate(timeout=limit)
            code = process.returncode
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            code = "timeout"
        finally:
            target.write_bytes(original)
            os.utime(target, (stat.st_atime, stat.st_mtime))
        # Exit 4 is a usage error, or conftest failing to import: the mutant broke the import
        # of what every test loads (a constant's arithmetic), so no test run can pass.
        if code == 4 and f"{mutant.path}:" not in output:
            raise SystemExit(f"pytest could not start for {mutant.id}:\n{output[-3000:]}")
        status = {0: "survived", 5: "no tests", "timeout": "timeout"}.get(code, "caught")
        lines = output.splitlines()
        failed = [line for line in lines if line.startswith(("FAILED", "ERROR"))] or lines[-1:]
        return {
            "id": mutant.id,
            "backend": backend(),
            "status": status,
            "key": _key(mutated),
            "seconds": round(time.monotonic() - started, 1),
            "tests": len(tests),
            "by": failed[:1],
        }


def _key(mutated):
    return hashlib.sha1(mutated).hexdigest()


def make_template():
    """A test database migrated once, copied by every mutant's run (tests/conftest.py)."""
    if backend() == "sqlite":
        template = STATE / "template.sqlite3"
        if not template.exists():
            new = STATE / "template-new.sqlite3"
            environment = {**os.environ, "DATABASE_URL": f"sqlite:///{new}"}
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--settings", "tests.settings", "-v0"],
                cwd=ROOT,
                env=environment,
                check=True,
            )
            new.rename(template)
        return str(template)
    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1] + "_mutant_template"
    base = url.rsplit("/", 1)[0]
    subprocess.run(["dropdb", "--if-exists", f"--maintenance-db={base}/postgres", name], check=True)
    subprocess.run(["createdb", f"--maintenance-db={base}/postgres", name], check=False)
    environment = {**os.environ, "DATABASE_URL": f"{base}/{name}"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--settings", "tests.settings", "-v0"],
        cwd=ROOT,
        env=environment,
        check=True,
    )
    return name


def run(options):
    index = Index()
    done = results()
    todo = []
    for mutant in all_mutants(options.rate, postgres_only=backend() == "postgresql"):
        if options.only and not mutant.id.startswith(options.only):
            continue
        source = (ROOT / mutant.path).read_bytes()
        previous = done.get((mutant.id, backend()))
        fresh = previous and previous["key"] == _key(mutant.apply(source))
        # A survivor is run again once coverage was measured again (new tests may reach it).
        alive = previous and previous["status"] in ("survived", "no tests")
        alive = alive and previous.get("index") != index.stamp
        if fresh and not options.again and not (options.survivors and alive):
            continue
        if backend() == "postgresql":
            # PostgreSQL runs what SQLite left alive: a mutant caught on either is caught in CI.
            on_sqlite = done.get((mutant.id, "sqlite"))
            if on_sqlite and on_sqlite["status"] not in ("survived", "no tests"):
                continue
        tests, seconds = index.reaching(mutant)
        todo.append((mutant, tests, seconds))
    print(f"{len(todo)} mutants to run on {backend()}", flush=True)
    if not todo:
        return
    template = make_template()
    workers = [Worker(number, template) for number in range(options.jobs)]
    # The unmutated copy must pass the tests that read the source, or every mutant looks caught.
    null = Mutant("none", "incidents/severity.py", 1, 1, 0, 0, "", "<module>", "none", 0, None, ())
    checks = list(dict.fromkeys(test for _, _, tests in DECLARATIONS for test in tests))
    if workers[0].run(null, checks, 10)["status"] != "survived":
        raise SystemExit("the unmutated project fails its tests in the copy: fix that first")
    free = list(workers)
    output = (STATE / "results.jsonl").open("a")

    def one(item):
        mutant, tests, seconds = item
        worker = free.pop()
        try:
            if not tests:
                record = {
                    "id": mutant.id,
                    "backend": backend(),
                    "status": "no tests",
                    "key": _key(mutant.apply((ROOT / mutant.path).read_bytes())),
                    "seconds": 0,
                    "tests": 0,
                    "by": [],
                }
            else:
                record = worker.run(mutant, tests, seconds, mutant.id in index.seeding)
        finally:
            free.append(worker)
        record["index"] = index.stamp
        output.write(json.dumps(record) + "\n")
        output.flush()
        return mutant, record

    with ThreadPoolExecutor(options.jobs) as pool:
        for number, (mutant, record) in enumerate(pool.map(one, todo), 1):
            print(
                f"{number:4}/{len(todo)} {record['status']:9} {record['seconds']:6.1f} s "
                f"{record['tests']:5} tests  {mutant.id}  {mutant.kind}",
                flush=True,
            )
    for worker in workers:
        shutil.rmtree(worker.place, ignore_errors=True)


# The score -----------------------------------------------------------------------------------

CAUGHT = {"caught", "timeout"}


def explained(path=LEDGER):
    """{mutant id: reason} from the ledger: `## reason` heads the ids it explains."""
    reasons, reason = {}, None
    if not path.exists():
        return reasons
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("  #")[0].strip()
        if line.startswith("## "):
            reason = line[3:].strip()
        elif line and not line.startswith("#"):
            if reason is None:
                raise SystemExit(f"{path.name}:{number}: a mutant before any `## reason` line")
            reasons[line] = reason
    return reasons


def outcome(mutant, done, source):
    """caught, survived or not run: caught on either database counts (CI runs both). A result
    for another text of the file (changed since) is not counted."""
    key = _key(mutant.apply(source))
    records = [done.get((mutant.id, name)) for name in ("sqlite", "postgresql")]
    records = [record for record in records if record and record["key"] == key]
    if not records:
        return "not run"
    return "caught" if any(record["status"] in CAUGHT for record in records) else "survived"


def wilson(caught, total, z=1.96):
    if not total:
        return 0.0, 0.0
    p = caught / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return centre - half, centre + half


def score(options):
    done = results()
    sample = list(all_mutants(options.rate))
    counts = defaultdict(Counter)
    survivors = []
    sources = {path: (ROOT / path).read_bytes() for path in {m.path for m in sample}}
    for mutant in sample:
        state = outcome(mutant, done, sources[mutant.path])
        counts[mutant.path.split("/")[0]][state] += 1
        counts[mutant.path][state] += 1
        if state == "survived":
            survivors.append(mutant)
    print(f"{'':36} {'caught':>7} {'run':>5} {'score':>7} {'not run':>8}")
    total = Counter()
    for name in sorted(counts, key=lambda name: ("/" in name, name)):
        if "/" in name and not options.files:
            continue
        total.update(counts[name] if "/" not in name else {})
        print(_row(name, counts[name]))
    print(_row("the whole application", total))
    postgres = Counter()
    for mutant in all_mutants(0, postgres_only=True):
        postgres[outcome(mutant, done, (ROOT / mutant.path).read_bytes())] += 1
    print(_row("PostgreSQL-only code, every mutant", postgres))
    ran = total["caught"] + total["survived"]
    low, high = wilson(total["caught"], ran)
    print(
        f"95 % interval: {100 * low:.1f} %–{100 * high:.1f} % "
        f"(a sample of {len(sample)} of the application's mutants, --rate {options.rate} ‰)"
    )
    reasons = explained()
    unexplained = [m for m in survivors if m.id not in reasons]
    by_reason = Counter(reasons[m.id] for m in survivors if m.id in reasons)
    print(f"\n{len(survivors) - len(unexplained)} survivors explained in {LEDGER.name}:")
    for reason, count in by_reason.most_common():
        print(f"  {count:4}  {reason}")
    print(f"{len(unexplained)} not explained")
    if options.survivors:
        for mutant in unexplained:
            source = (ROOT / mutant.path).read_bytes()
            print(f"\n{mutant.id}  {mutant.scope}\n{mutant.diff(source)}")
    return 1 if unexplained and not total["not run"] else 0


def _row(name, count):
    ran = count["caught"] + count["survived"]
    percent = f"{100 * count['caught'] / ran:.1f} %" if ran else "-"
    return f"{name:36} {count['caught']:7} {ran:5} {percent:>7} {count['not run']:8}"


def show(options):
    for mutant in all_mutants():
        if mutant.id == options.id:
            source = (ROOT / mutant.path).read_bytes()
            print(mutant.diff(source))
            print(f"scope {mutant.scope}; reached by:", Index().reaching(mutant)[0][:20])
            return 0
    raise SystemExit(f"no mutant {options.id}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    measure = commands.add_parser("coverage")
    measure.add_argument("--workers", default="2")
    running = commands.add_parser("run")
    running.add_argument("--jobs", type=int, default=2)
    running.add_argument("--only", help="the mutants whose id starts so (a path)")
    running.add_argument("--again", action="store_true", help="run cached results again")
    running.add_argument(
        "--survivors", action="store_true", help="run the survivors again (after new tests)"
    )
    scoring = commands.add_parser("score")
    scoring.add_argument("--survivors", action="store_true")
    scoring.add_argument("--files", action="store_true", help="a line per file too")
    showing = commands.add_parser("show")
    showing.add_argument("id")
    for sub in (running, scoring):
        sub.add_argument("--rate", type=int, default=RATE, help="the sample, per mille")
    options = parser.parse_args()
    if options.command == "coverage":
        return measure_coverage(options.workers)
    if options.command == "run":
        return run(options)
    if options.command == "score":
        return score(options)
    return show(options)


if __name__ == "__main__":
    sys.exit(main())
