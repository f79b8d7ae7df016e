"""The project configuration: defaults, merging, and errors that name the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from landkit.config.load import default_profile_text, load_config
from landkit.core.errors import ConfigError

NUMBER = re.compile(r"(?<![\w.])-?\d+(\.\d+)?(?![\w.])")


def write(tmp_path: Path, text: str, name: str = "landkit.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_default_profile_loads():
    project = load_config()
    assert project.assessment.grading.rank_shares == {"A": 0.25, "B": 0.45, "C": 0.25, "D": 0.05}
    assert sum(project.assessment.tracks[0].weights.values()) == 100
    assert project.columns.parcels["parcel_id"].names[0] == "地块编号"


def test_every_number_in_the_default_profile_has_a_source_comment():
    """Each number sits on a commented line, under a comment block, or under a commented parent key."""
    stack: list[tuple[int, bool]] = []  # (indent, commented) of open parent keys
    missing = []
    after_comment = False
    for n, line in enumerate(default_profile_text().splitlines(), 1):
        body = re.sub(r'"[^"]*"', '""', line.split("#", 1)[0])
        if not body.strip():
            after_comment = line.strip().startswith("#")
            continue
        indent = len(line) - len(line.lstrip(" -"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        commented = "#" in line
        value = body.split(":", 1)[1] if ":" in body else body
        if (NUMBER.search(value) and not line.startswith("version:")
                and not commented and not after_comment and not any(c for _, c in stack)):
            missing.append(f"{n}: {line.strip()}")
        stack.append((indent, commented))
        after_comment = False
    assert not missing, "numbers without a source or [assumed]:\n" + "\n".join(missing)


def test_project_file_overrides_defaults_key_by_key(tmp_path):
    path = write(tmp_path, "name: 测试\nassessment:\n  grading:\n    method: score\n")
    project = load_config(path)
    assert project.name == "测试"
    assert project.assessment.grading.method == "score"
    assert project.assessment.grading.rank_shares["A"] == 0.25  # kept from the default
    assert project.resolve("a/b.gpkg") == tmp_path / "a/b.gpkg"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("assessment:\n  gradng: {}\n", "unknown key `assessment.gradng`"),
        ("validation:\n  overlap_tolerance_m2: abc\n", "key `validation.overlap_tolerance_m2` = 'abc'"),
        ("validation:\n  overlap_tolerance_m2: -1\n", "greater than or equal to 0"),
        (
            "assessment:\n  grading:\n    score_min: {A: 50, B: 70, C: 40}\n",
            "needs A > B > C",
        ),
        (
            "assessment:\n  grading:\n    rank_shares: {A: 0.5, B: 0.45, C: 0.25, D: 0.05}\n",
            "sum to 1",
        ),
        ("crs:\n  working: EPSG:4490\n", "must be a projected CRS"),
        ("crs:\n  working: EPSG:999999\n", "not a CRS PROJ understands"),
        ("columns:\n  parcels:\n    parcel_idd: 编号\n", "unknown canonical column `parcel_idd`"),
        ("columns:\n  enterprises:\n    tax_wan: {column: 税收, unit: 美元}\n", "unit `美元`"),
        ("inputs:\n  parcels: {path: a.gpkg, lyr: x}\n", "unknown key `inputs.parcels.lyr`"),
    ],
)
def test_bad_values_name_the_key(tmp_path, text, expected):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    message = str(err.value)
    assert expected in message
    assert str(tmp_path / "landkit.yaml") in message
    assert "\n" not in message


def test_weights_must_sum_to_100(tmp_path):
    text = "assessment:\n  tracks:\n    - {name: t, label_zh: 甲, label_en: t, weights: {tax_per_mu: 60, far: 30}}\n"
    with pytest.raises(ConfigError, match=r"weights must sum to 100, they sum to 90"):
        load_config(write(tmp_path, text))


def test_track_with_unknown_indicator(tmp_path):
    text = "assessment:\n  tracks:\n    - {name: t, label_zh: 甲, label_en: t, weights: {tax_per_muu: 100}}\n"
    with pytest.raises(ConfigError, match=r"unknown indicators \['tax_per_muu'\]"):
        load_config(write(tmp_path, text))


def test_benchmark_method_needs_a_benchmark(tmp_path):
    text = "assessment:\n  indicators:\n    far:\n      benchmark: null\n"
    with pytest.raises(ConfigError, match="needs a `benchmark`"):
        load_config(write(tmp_path, text))
    text = "assessment:\n  indicators:\n    far:\n      benchmark: 0\n"
    with pytest.raises(ConfigError, match="greater than 0"):
        load_config(write(tmp_path, text))


def test_yaml_syntax_error_gives_the_line(tmp_path):
    with pytest.raises(ConfigError, match=r"line 3: not valid YAML"):
        load_config(write(tmp_path, "name: a\ninputs: [\n"))


def test_missing_and_non_mapping_files(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(write(tmp_path, "- a\n- b\n"))
    gbk = tmp_path / "gbk.yaml"
    gbk.write_bytes("name: 闵行\n".encode("gbk"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(gbk)


def test_explicit_columns_are_recorded(tmp_path):
    project = load_config(write(tmp_path, "columns:\n  parcels:\n    town: 镇\n"))
    assert project.explicit_columns == {"parcels": ["town"]}
    assert project.columns.parcels["town"].names == ["镇"]
    assert load_config().explicit_columns == {}
