"""The mutation score of the core modules, after `make mutate` (mutmut) has run, and of the
whole application, after `make mutate-all` (bench/mutants.py) has run.

    .venv/bin/python bench/mutation.py [--survivors]

Prints, per module, how many planted bugs (mutants) the suite caught, and the total; then the
whole application's score on its sample, per package. Every
mutant that survives must be explained in bench/survivors.txt (a `## reason` line, then the
mutants it explains); with --survivors it prints the survivors nobody explained yet, and the
explanations whose mutant no longer survives (`.venv/bin/mutmut show NAME` shows a diff).
Exit status 1 when a survivor is unexplained.
"""

import argparse
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).with_name("mutmut")
LEDGER = ROOT / "bench" / "survivors.txt"
CAUGHT = {"killed", "timeout", "segfault", "suspicious"}


def results():
    output = subprocess.run(
        [MUTMUT, "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for line in output.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            yield name, status


def module_of(name):
    return re.sub(r"\.x[_ǁ].*$", "", name)


def explained(path=LEDGER):
    """{mutant name: reason} from the ledger: `## reason` heads the names it explains."""
    reasons, reason = {}, None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if line.startswith("## "):
            reason = line[3:].strip()
        elif line and not line.startswith("#"):
            if reason is None:
                raise SystemExit(f"{path.name}:{number}: a mutant before any `## reason` line")
            reasons[line] = reason
    return reasons


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", action="store_true")
    options = parser.parse_args()
    status = core(options) if (ROOT / "mutants").is_dir() else 0
    if (ROOT / "mutants-whole" / "results.jsonl").exists():
        import mutants

        print("\nThe whole application (bench/mutants.py):")
        whole = argparse.Namespace(rate=mutants.RATE, survivors=options.survivors, files=False)
        status = mutants.score(whole) or status
    return status


def core(options):
    counts = defaultdict(Counter)
    statuses = dict(results())
    for name, status in statuses.items():
        counts[module_of(name)][status] += 1
    survivors = [name for name, status in statuses.items() if status in {"survived", "no tests"}]
    total = Counter()
    print(f"{'module':40} {'caught':>7} {'checked':>8} {'score':>7} {'not run':>8}")
    for module in sorted(counts):
        count = counts[module]
        total.update(count)
        print(line(module, count))
    print(line("all", total))
    reasons = explained()
    unexplained = [name for name in survivors if name not in reasons]
    by_reason = Counter(reasons[name] for name in survivors if name in reasons)
    print(f"\n{len(survivors) - len(unexplained)} survivors explained in {LEDGER.name}:")
    for reason, count in by_reason.most_common():
        print(f"  {count:4}  {reason}")
    print(f"{len(unexplained)} not explained")
    if options.survivors:
        print("\n".join(f"  {name}" for name in unexplained))
        # Explanations of mutants that are now caught (or no longer exist) can go.
        alive = {"survived", "no tests", "not checked"}
        gone = [name for name in reasons if statuses.get(name, "gone") not in alive]
        if gone:
            print(f"\n{len(gone)} explained in {LEDGER.name} but no longer surviving:")
            print("\n".join(f"  {name}" for name in gone))
    return 1 if unexplained and total["not checked"] == 0 else 0


def line(label, count):
    caught = sum(count[status] for status in CAUGHT)
    checked = sum(count.values()) - count["not checked"]
    score = f"{100 * caught / checked:.1f} %" if checked else "-"
    return f"{label:40} {caught:7} {checked:8} {score:>7} {count['not checked']:8}"


if __name__ == "__main__":
    sys.exit(main())
