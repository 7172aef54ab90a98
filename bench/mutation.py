"""The mutation score of the core modules, after `make mutate` (mutmut) has run.

    .venv/bin/python bench/mutation.py [--survivors]

Prints, per module, how many planted bugs (mutants) the suite caught, and the total; with
--survivors, every surviving mutant's name (`.venv/bin/mutmut show NAME` shows its diff).
"""

import argparse
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTMUT = Path(sys.executable).with_name("mutmut")
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--survivors", action="store_true")
    options = parser.parse_args()
    counts = defaultdict(Counter)
    survivors = []
    for name, status in results():
        counts[module_of(name)][status] += 1
        if status in {"survived", "no tests"}:
            survivors.append(name)
    total = Counter()
    print(f"{'module':40} {'caught':>7} {'checked':>8} {'score':>7} {'not run':>8}")
    for module in sorted(counts):
        count = counts[module]
        total.update(count)
        print(line(module, count))
    print(line("all", total))
    if options.survivors:
        print("\nsurvivors:")
        print("\n".join(f"  {name}" for name in survivors))


def line(label, count):
    caught = sum(count[status] for status in CAUGHT)
    checked = sum(count.values()) - count["not checked"]
    score = f"{100 * caught / checked:.1f} %" if checked else "-"
    return f"{label:40} {caught:7} {checked:8} {score:>7} {count['not checked']:8}"


if __name__ == "__main__":
    main()
