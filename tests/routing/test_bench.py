import json
from pathlib import Path

import pytest

from routing import bench
from tests.routing.support import TINY_VRPTW


def test_reference_is_the_lower_of_bks_and_pyvrp(tmp_path: Path) -> None:
    (tmp_path / "set").mkdir()
    inst = tmp_path / "set" / "TINY.txt"
    inst.write_text(TINY_VRPTW)
    (tmp_path / "BKS.json").write_text(
        json.dumps({"TINY": {"best_known_cost": 60.0}, "TINY_distance": {"best_known_cost": 55.0}})
    )
    (tmp_path / "reference-pyvrp.json").write_text(json.dumps({"_about": "x", "TINY": {"cost": 54.5}}))
    assert bench.reference_cost(inst, "TINY") == 54.5
    (tmp_path / "reference-pyvrp.json").write_text(json.dumps({"TINY": {"cost": 58.0}}))
    assert bench.reference_cost(inst, "TINY") == 55.0


def test_cli_json_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inst = tmp_path / "TINY.txt"
    inst.write_text(TINY_VRPTW)
    assert bench.main(["vrptw", str(inst), "--time-limit", "1", "--json"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    row = json.loads(line)
    assert {"instance", "cost", "vehicles", "feasible", "seconds"} <= set(row)
    assert row["instance"] == "TINY"
    assert row["feasible"] is True
    assert row["cost"] == pytest.approx(10 + 10 + 200**0.5 + 20, abs=0.01)
    assert row["baseline_feasible"] is True
