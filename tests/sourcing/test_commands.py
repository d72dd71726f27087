"""The sourcing_plan and sourcing_compare management commands (no database needed)."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.sourcing.support import INSTANCES, problems


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_sourcing_plan_prints_one_optimal_plan_as_json():
    # given
    path = INSTANCES / "mixed-7-003.json"
    instance = json.loads(path.read_text())

    # when
    result = json.loads(run("sourcing_plan", str(path)))

    # then
    assert problems(instance, result) == []
    assert result["units"] == instance["expected"]["units"]
    assert result["cost"] == pytest.approx(instance["expected"]["cost"], abs=1e-5)


def test_sourcing_plan_prints_json_lines_in_order_for_several_files():
    # given
    paths = [INSTANCES / "mixed-7-001.json", INSTANCES / "mixed-7-012.json"]

    # when
    lines = run("sourcing_plan", "--strategy", "nearest", *map(str, paths)).splitlines()

    # then
    assert len(lines) == 2
    for path, line in zip(paths, lines, strict=True):
        result = json.loads(line)
        assert result["strategy"] == "nearest"
        assert problems(json.loads(path.read_text()), result) == []


def test_sourcing_plan_honours_a_budget():
    # given
    path = INSTANCES / "hard-8-002.json"

    # when
    result = json.loads(run("sourcing_plan", "--budget-ms", "0.5", str(path)))

    # then
    assert result["proven"] is False
    assert result["bound"] <= json.loads(path.read_text())["expected"]["cost"] + 1e-6


def test_sourcing_plan_refuses_an_invalid_instance(tmp_path: Path):
    # given
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"order": {"lines": []}}))

    # when / then
    with pytest.raises(CommandError, match="order.destination"):
        run("sourcing_plan", str(path))


def test_sourcing_compare_prints_a_row_per_strategy(tmp_path: Path):
    # given: a folder with two recorded instances
    for name in ("mixed-7-005.json", "mixed-7-018.json"):
        (tmp_path / name).write_text((INSTANCES / name).read_text())

    # when
    out = run("sourcing_compare", str(tmp_path))

    # then
    rows = {line.split()[0]: line.split() for line in out.splitlines()[3:]}
    assert set(rows) == {"optimal", "priority", "nearest", "fewest_shipments"}
    assert rows["optimal"][1:3] == ["2", "100.0%"]
