"""The shape DESIGN.md asks for, read from the code: `incidents` knows nothing of the apps built
on it (it asks them through `incidents.ports` and its signals), and no module imports one that
imports it back, at the top or inside a function."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["accounts", "incidents", "incident_manager", "notifications", "subjects"]


def modules():
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports(name, path, known):
    """The modules of ours this one imports, wherever the import statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph():
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(edges):
    """Strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while (member := stack.pop()) != node:
                group.add(member)
                on_stack.discard(member)
            on_stack.discard(node)
            if group:
                groups.append(sorted({node, *group}))

    for node in edges:
        if node not in index:
            visit(node)
    return groups


def test_incidents_imports_nothing_of_the_apps_built_on_it():
    edges = graph()
    crossing = {
        name: sorted(other for other in targets if other.startswith(("notifications", "subjects")))
        for name, targets in edges.items()
        if name.startswith("incidents")
    }
    assert {name: targets for name, targets in crossing.items() if targets} == {}


def test_incidents_does_not_reach_their_tables_round_the_rule():
    """Not through `_meta` (related_model) nor the reverse relations' managers."""
    reaching = re.compile(
        r"related_model|\.(messages|firings|acknowledgements)\.(model|objects|filter|exclude|values)\b"
    )
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for name, path in modules().items()
        if name.startswith("incidents")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if reaching.search(line)
    ]
    assert found == []


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.django_db
def test_incidents_works_on_its_own_through_the_ports_default(client, dpo, incident_in):
    """Without the paging app the port answers that nothing was paged: the dashboard, its
    filters, the incident page and the report still work and say so."""
    from incidents import ports

    filled = ports.paging
    ports.fill(ports.Nothing())
    try:
        incident = incident_in("assessed")
        client.force_login(dpo)
        dashboard = client.get("/")
        assert dashboard.status_code == 200
        row = next(i for i in dashboard.context["page"] if i.pk == incident.pk)
        assert (row.paged, row.acknowledged_by) == (False, None)
        assert list(client.get("/?mine=on").context["page"]) == []
        assert client.get(f"/incidents/{incident.pk}/").status_code == 200
        report = client.get(f"/incidents/{incident.pk}/documents/report.pdf?lang=en")
        assert report.status_code == 200
    finally:
        ports.fill(filled)
