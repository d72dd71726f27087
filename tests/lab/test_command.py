"""`manage.py sourcing_replay`: a period replayed, printed, kept; bad options named."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from lab.models import ReplayRun
from lab.services import replay_run_csv
from tests.lab.helpers import seeded_history

pytestmark = pytest.mark.django_db


def _replay(*args: str) -> str:
    out = io.StringIO()
    call_command("sourcing_replay", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def today():
    return timezone.localdate().isoformat()


def test_it_replays_a_period_prints_it_and_keeps_the_run(today, tmp_path):
    # given
    seeded = seeded_history(orders=20)
    costs = tmp_path / "costs.csv"
    costs.write_text("location,shipment_cost,cost_per_km,unit_cost\nDC-LILLE,1.00,0.001,0.10\n")
    target = tmp_path / "orders.csv"
    # when
    printed = _replay(
        "--from", today, "--to", today,
        "--set", "OMS_SPLIT_PENALTY=8",
        "--exclude-location", "dc-marseille",
        "--cost-file", str(costs),
        "--name", "no Marseille",
        "--csv", str(target),
    )  # fmt: skip
    # then
    run = ReplayRun.objects.get()
    assert (run.status, run.source, run.name) == ("done", "command", "no Marseille")
    assert run.policy["split_penalty"] == 8.0
    assert run.policy["exclusions"] == [["DC-MARSEILLE", None, None]]
    assert run.policy["costs"] == {"DC-LILLE": [1.0, 0.001, 0.1]}
    orders = len(seeded.orders) + len(seeded.before)
    assert run.summary["orders"] == run.total == run.processed == orders
    assert "logistics cost" in printed and "DC-MARSEILLE" in printed
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == orders
    assert not any("DC-MARSEILLE" in row["replay_locations"] for row in rows)
    assert target.read_bytes() == replay_run_csv(run)


def test_the_live_policy_changes_no_order(today):
    # given
    seeded_history(orders=15)
    # when
    printed = _replay("--from", today, "--to", today)
    # then
    run = ReplayRun.objects.get()
    assert run.summary["changed"] == 0
    assert run.summary["real"] == run.summary["replay"]
    assert "orders planned differently: 0" in printed


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--from", "2026-13-01", "--to", "2026-12-01"], "--from: '2026-13-01' is not a date"),
        (["--from", "2026-12-02", "--to", "2026-12-01"], "--to: The period ends before"),
        (["--set", "OMS_SPLIT_PENALTY=lots"], "--set: OMS_SPLIT_PENALTY: 'lots' is not a number"),
        (["--set", "DEBUG=1"], "--set: --set takes NAME=VALUE"),
        (["--set", "OMS_SOURCING_STRATEGY=cheapest"], "--strategy: Unknown strategy 'cheapest'"),
        (["--exclude-location", "NOWHERE"], "--exclude-location: No location 'NOWHERE'"),
        (["--exclude-location", "DC-X:2026-12-01"], "--exclude-location: No location 'DC-X'"),
        (["--let-ship", "NOWHERE"], "--let-ship: No location 'NOWHERE'"),
    ],
)
def test_bad_options_are_refused_naming_the_option(args, said):
    # given
    seeded_history(orders=1)
    base = ["--from", "2026-12-01", "--to", "2026-12-01"]
    # when
    with pytest.raises(CommandError) as refused:
        _replay(*base, *args)
    # then: nothing was kept
    assert said in str(refused.value)
    assert not ReplayRun.objects.exists()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("code,cost\nDC-LYON,1\n", "header must be location,shipment_cost"),
        (
            "location,shipment_cost,cost_per_km,unit_cost\nDC-LYON,1,0,0\nDC-NOPE,1,0,0\n",
            "cost file, row 3: No location 'DC-NOPE'",
        ),
        (
            "location,shipment_cost,cost_per_km,unit_cost\nDC-LYON,-1,0,0\n",
            "cost file, row 2: shipment_cost: -1 is out of range",
        ),
        (
            "location,shipment_cost,cost_per_km,unit_cost\nDC-LYON,1,0,0\ndc-lyon,2,0,0\n",
            "cost file, row 3: DC-LYON is given twice",
        ),
    ],
)
def test_a_bad_cost_file_is_refused_naming_its_row(tmp_path, text, said):
    # given
    seeded_history(orders=1)
    costs = tmp_path / "costs.csv"
    costs.write_text(text)
    # when
    with pytest.raises(CommandError) as refused:
        _replay("--from", "2026-12-01", "--to", "2026-12-01", "--cost-file", str(costs))
    # then
    assert said in str(refused.value) and "--cost-file" in str(refused.value)
    assert not ReplayRun.objects.exists()
