"""`gateway rates show` and `gateway rates check`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gateway.cli import cli


def config_file(tmp_path: Path, rates_dir: Path | None = None) -> str:
    path = tmp_path / "gateway.toml"
    text = '[sftp]\nenabled = false\n'
    if rates_dir is not None:
        text += f'[paths]\nrates_dir = "{rates_dir.as_posix()}"\n'
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_show_json_lists_every_parameter_in_force(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", config_file(tmp_path), "rates", "show", "--date",
                                      "2024-10-15", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    rows = {r["parameter"]: r for r in data["parameters"]}
    assert rows["ccss/ceiling"]["value"] == "9600.00" and rows["ccss/ceiling"]["since"] == "2024-10-01"
    assert rows["ccss/employer"]["unconfirmed"] is True and rows["ccss/ceiling"]["unconfirmed"] is False
    assert rows["minimum_wage/hourly"]["value"] == "11.65"
    assert {"source", "grade", "checked", "stale"} <= set(rows["car/employee"])
    assert rows["car/employee"]["label"] == "Taux CAR salarial"
    assert rows["ccss/ceiling"]["label"] == "Plafond CCSS"


def test_show_text_flags_missing_values(tmp_path: Path) -> None:
    args = ["--config", config_file(tmp_path), "rates", "show", "--date", "2023-06-30"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0
    assert "cmrc/ta_ceiling : aucune valeur en vigueur" in result.output
    assert "  Plafond CMRC tranche A — Plafond mensuel de la tranche A CMRC" in result.output
    assert "car/ceiling = 5 504,00 €" in result.output.replace("\u202f", " ")


def test_check_the_package_data(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", config_file(tmp_path), "rates", "check"])
    assert result.exit_code in (0, 1), result.output  # 1 once the data is older than the margin
    assert "paramètres" in result.output and "valeurs non confirmées" in result.output


def test_check_a_bad_operator_file_exits_2_naming_it(tmp_path: Path) -> None:
    rates = tmp_path / "rates"
    (rates / "car").mkdir(parents=True)
    (rates / "car" / "employee.toml").write_text('description = "x"\nunit = "rate"\n[values."2024-1-1"]\n',
                                                 encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", config_file(tmp_path, rates), "rates", "check"])
    assert result.exit_code == 2
    assert "employee.toml" in result.output and "2024-1-1" in result.output
