"""The command line speaks Chinese by default and English on request; its catalogue is whole.

The language comes from ``--lang``, else ``LANDKIT_LANG``, else the locale (English only for an
``en`` locale). The cases that depend on the environment run the installed console script in a
subprocess with a clean locale; the others use click's runner with ``LANDKIT_LANG`` set.
"""

from __future__ import annotations

import gettext
import importlib.util
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from landkit.cli.main import (
    LogFormatter,
    _lang_before_command,
    all_commands,
    cli,
    command_summary,
    help_paragraphs,
    help_texts,
)
from landkit.core import i18n
from landkit.core.crs import parse_crs
from landkit.core.errors import CRSError
from landkit.core.progress import Progress

ROOT = Path(__file__).resolve().parent.parent
LANDKIT = str(Path(sys.executable).parent / "landkit")  # the console script the package installs
COMMANDS = sorted(all_commands())


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run the console script with only the given language variables set (no LANDKIT_LANG, no locale)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("LANDKIT_LANG", *i18n.LOCALE_VARIABLES)}
    return subprocess.run([LANDKIT, *args], check=False, capture_output=True, text=True, encoding="utf-8", timeout=120,
                          env={**clean, "COLUMNS": "80", **env}, cwd=ROOT)


def invoke(*args: str) -> str:
    """Run the command line in this process; return what it printed (stdout and stderr)."""
    return CliRunner().invoke(cli, list(args)).output


def chinese(text: str) -> bool:
    return "用法:" in text and "显示本帮助并退出。" in text and "Usage:" not in text


def english(text: str) -> bool:
    return "Usage:" in text and "Show this message and exit." in text and "用法" not in text


# --- the language chosen ------------------------------------------------------------------------


@pytest.mark.parametrize("env", [{"LANG": "C.UTF-8"}, {"LANG": "zh_CN.UTF-8"}, {}], ids=["C", "zh_CN", "none"])
@pytest.mark.parametrize("command", [[], ["assess"]], ids=["landkit", "assess"])
def test_help_is_chinese_by_default(env, command):
    result = run(*command, "--help", **env)
    assert result.returncode == 0, result.stderr
    assert chinese(result.stdout), result.stdout
    assert ("命令:" in result.stdout) if not command else ("评估地块" in result.stdout)


@pytest.mark.parametrize("args, env", [
    (["--lang", "en"], {"LANG": "zh_CN.UTF-8"}),
    ([], {"LANDKIT_LANG": "en", "LANG": "zh_CN.UTF-8"}),
    ([], {"LANG": "en_US.UTF-8"}),
], ids=["--lang en", "LANDKIT_LANG=en", "LANG=en_US"])
@pytest.mark.parametrize("command", [[], ["assess"]], ids=["landkit", "assess"])
def test_help_is_english_when_asked(args, env, command):
    result = run(*args, *command, "--help", **env)
    assert result.returncode == 0, result.stderr
    assert english(result.stdout), result.stdout
    assert ("Commands:" in result.stdout) if not command else ("Assess PARCELS" in result.stdout)


@pytest.mark.parametrize("environ, expected", [
    ({}, "zh"),
    ({"LANG": "C.UTF-8"}, "zh"),
    ({"LANG": "POSIX"}, "zh"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_ALL": "zh_CN.UTF-8"}, "zh"),  # LC_ALL before LANG
    ({"LANG": "zh_CN.UTF-8", "LC_MESSAGES": "en_GB.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8", "LANGUAGE": "en_GB:zh_CN"}, "en"),  # LANGUAGE first, its first entry
    ({"LANG": "en_US.UTF-8", "LANDKIT_LANG": "zh"}, "zh"),
    ({"LANG": "zh_CN.UTF-8", "LANDKIT_LANG": "en"}, "en"),
    ({"LANG": "en_US.UTF-8", "LANDKIT_LANG": "fr"}, "en"),  # not a language of landkit's: ignored
])
def test_language_from_the_environment(environ, expected):
    assert i18n.detect_language(environ) == expected


def test_set_language_wins_over_the_environment_until_reset(monkeypatch):
    monkeypatch.setenv("LANDKIT_LANG", "en")
    i18n.set_language("zh")
    assert i18n.language() == "zh" and i18n.gettext("Usage:") == "用法:"
    i18n.set_language(None)
    assert i18n.language() == "en" and i18n.gettext("Usage:") == "Usage:"
    with pytest.raises(ValueError, match="unknown language"):
        i18n.set_language("fr")


def test_the_groups_lang_is_read_before_the_command_only():
    assert _lang_before_command(["--lang", "en", "export", "--lang", "zh"]) == "en"
    assert _lang_before_command(["--lang=zh", "--help"]) == "zh"
    assert _lang_before_command(["--help", "--lang", "en"]) == "en"  # help is shown when parsed: read before
    assert _lang_before_command(["-vv", "export", "--lang", "en"]) is None  # export's own --lang (headers)
    assert _lang_before_command(["--lang", "fr"]) is None  # left to click to refuse


def test_a_commands_own_lang_does_not_change_the_command_line(monkeypatch):
    monkeypatch.setenv("LANDKIT_LANG", "zh")
    assert chinese(invoke("export", "--lang", "en", "--help"))
    assert english(invoke("--lang", "en", "export", "--lang", "zh", "--help"))
    assert chinese(invoke("export", "--help"))  # the language of one invocation does not stay
    monkeypatch.setenv("LANDKIT_LANG", "en")
    assert english(invoke("export", "--help"))


# --- everything in Chinese ----------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_every_help_text_is_translated(monkeypatch, command):
    """No paragraph of landkit's help stays English in Chinese (the catalogue test says how to fix one)."""
    monkeypatch.setenv("LANDKIT_LANG", "zh")
    shown = " ".join(invoke(command, "--help").split())
    assert chinese(shown), shown
    untranslated = [msgid for msgid, where in help_texts(cli) if where.split()[1:2] == [command]
                    and " ".join(msgid.split()) in shown]
    assert not untranslated, (f"`landkit {command} --help` shows English: {untranslated}; "
                              "run `.venv/bin/python scripts/i18n.py update`, translate, and run it again")


def test_chinese_help_fits_the_terminal(monkeypatch):
    monkeypatch.setenv("LANDKIT_LANG", "zh")
    for command in ([], *([name] for name in COMMANDS)):
        result = CliRunner().invoke(cli, [*command, "--help"], terminal_width=80)
        wide = [line for line in result.output.splitlines() if i18n.display_width(line) > 80]
        assert not wide, wide


def test_errors_start_with_the_chinese_prefix(tmp_path):
    result = run("validate", "-c", str(tmp_path / "missing.yaml"), LANG="C.UTF-8")
    assert result.returncode == 1
    assert result.stderr.startswith("错误："), result.stderr
    assert run("validate", "-c", str(tmp_path / "missing.yaml"), LANG="en_US.UTF-8").stderr.startswith("Error: ")


def test_clicks_own_messages_are_chinese(monkeypatch, tmp_path):
    monkeypatch.setenv("LANDKIT_LANG", "zh")
    missing = invoke("assess", str(tmp_path / "p.gpkg"))
    assert "错误：缺少选项 '-o' / '--output'" in missing and "运行 'cli assess --help' 查看帮助。" in missing
    assert "'--lang' 的值无效" in invoke("export", str(tmp_path), "--lang", "fr", "-o", "x.csv")
    assert "没有命令 'exprt'" in invoke("exprt")
    assert "[必填]" in invoke("assess", "--help") and "[默认：local]" in invoke("assess", "--help")


def test_a_library_error_in_chinese_and_in_english(monkeypatch):
    monkeypatch.setenv("LANDKIT_LANG", "zh")
    with pytest.raises(CRSError, match="不是 PROJ 能识别的坐标系"):
        parse_crs("EPSG:nonsense", what="parcels.shp")
    monkeypatch.setenv("LANDKIT_LANG", "en")
    with pytest.raises(CRSError, match=r"^parcels.shp: `EPSG:nonsense` is not a CRS PROJ understands; use e\.g\. EPSG:4490$"):
        parse_crs("EPSG:nonsense", what="parcels.shp")


def _missing_parcels(tmp_path: Path) -> list[str]:
    return ["validate", str(tmp_path / "missing.gpkg")]


def _unknown_key(tmp_path: Path) -> list[str]:
    project = tmp_path / "landkit.yaml"
    project.write_text("unknown_key: 1\n", encoding="utf-8")
    return ["validate", "-c", str(project)]


def _output_exists(tmp_path: Path) -> list[str]:
    (tmp_path / "landkit.yaml").write_text("# mine\n", encoding="utf-8")
    return ["init", str(tmp_path / "landkit.yaml")]


def _unreachable_database(tmp_path: Path) -> list[str]:
    return ["validate", "postgresql://planner@127.0.0.1:1/park?table=parcels"]  # nothing listens on port 1


@pytest.mark.parametrize("args, chinese_message, english_message", [
    (_missing_parcels, "错误：parcels：找不到文件：", "Error: parcels: file not found: "),
    (_unknown_key, "：未知的设置项 `unknown_key`；请对照 `landkit init` 的模板检查拼写",
     ": unknown key `unknown_key`; check its spelling against `landkit init`'s template"),
    (_output_exists, " 已存在；要覆盖它请加 --overwrite，或换一个输出位置",
     " exists; pass --overwrite to replace it, or choose another output"),
    (_unreachable_database, "错误：parcels：无法连接到 127.0.0.1:1 上的 PostgreSQL 服务器",
     "Error: parcels: cannot reach the PostgreSQL server at 127.0.0.1:1"),
], ids=["missing parcel file", "unknown config key", "output exists", "unreachable database"])
def test_library_errors_are_chinese_by_default_and_english_with_lang_en(monkeypatch, tmp_path, args, chinese_message,
                                                                         english_message):
    monkeypatch.setenv("LANDKIT_LANG", "zh")
    command = args(tmp_path)
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 1 and chinese_message in result.output, result.output
    assert "Error" not in result.output and english_message not in result.output
    english = CliRunner().invoke(cli, ["--lang", "en", *command])
    assert english.exit_code == 1 and english_message in english.output, english.output
    assert "错误" not in english.output


def test_configuration_and_check_messages_follow_the_language(monkeypatch, tmp_path):
    import pandas as pd

    from landkit.config.load import load_config
    from landkit.core.errors import ConfigError
    from landkit.data.validate import check_ids

    project = tmp_path / "p.yaml"
    project.write_text("assessment:\n  tracks:\n    - {name: t, label_zh: 甲, label_en: A, weights: {tax_per_mu: 50}}\n",
                       encoding="utf-8")
    frame = pd.DataFrame({"parcel_id": ["P1", "P1", None]})
    monkeypatch.setenv("LANDKIT_LANG", "zh")
    with pytest.raises(ConfigError, match=r"：设置项 `assessment\.tracks\.0\.weights` = .*权重之和必须为 100，现在是 50"):
        load_config(project)
    assert [i.message for i in check_ids(frame, kind="parcels", id_col="parcel_id")] == [
        "parcel_id 为空", "parcel_id 重复出现 2 次"]
    monkeypatch.setenv("LANDKIT_LANG", "en")
    with pytest.raises(ConfigError, match=r": key `assessment\.tracks\.0\.weights` = .*weights must sum to 100, they sum to 50"):
        load_config(project)
    assert [i.message for i in check_ids(frame, kind="parcels", id_col="parcel_id")] == [
        "parcel_id is empty", "parcel_id appears 2 times"]


def test_progress_stages_and_log_levels_are_chinese(monkeypatch, caplog):
    monkeypatch.setenv("LANDKIT_LANG", "zh")
    monkeypatch.setattr(logging.getLogger("landkit"), "propagate", True)  # the command line turns it off
    with caplog.at_level(logging.INFO, logger="landkit"), Progress(2) as progress:
        with progress("read"):
            pass
        progress.record("workbook", 1.0)
    assert list(dict.fromkeys(r.getMessage().split(":")[0] for r in caplog.records)) == ["读取", "工作簿"]
    record = logging.LogRecord("landkit.io.read", logging.WARNING, __file__, 1, "a warning", None, None)
    assert LogFormatter("%(levelname)s %(name)s: %(message)s").format(record) == "警告 landkit.io.read: a warning"
    assert record.levelname == "WARNING"  # other handlers see the record unchanged
    monkeypatch.setenv("LANDKIT_LANG", "en")
    assert LogFormatter("%(levelname)s: %(message)s").format(record) == "WARNING: a warning"


# --- -v and -q after the command ----------------------------------------------------------------


@pytest.mark.parametrize("args", [["-vv", "validate"], ["validate", "-vv"], ["validate", "-v", "-v"]])
def test_verbosity_before_or_after_the_command(tmp_path, args):
    result = CliRunner().invoke(cli, [*args, "-c", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1
    assert "Traceback" in result.output and "configuration file not found" in result.output
    assert logging.getLogger("landkit").level == logging.DEBUG


def test_quiet_after_the_command(tmp_path):
    result = CliRunner().invoke(cli, ["validate", "-q", "-c", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert logging.getLogger("landkit").level == logging.ERROR
    assert "Traceback" not in CliRunner().invoke(cli, ["validate", "-c", str(tmp_path / "missing.yaml")]).output


def test_every_command_takes_v_and_q():
    for name in COMMANDS:
        options = {opt for param in all_commands()[name].params for opt in param.opts}
        assert {"-v", "--verbose", "-q", "--quiet"} <= options, name


# --- the catalogue ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def script():
    """scripts/i18n.py, loaded as a module (it needs Babel, from the test extra)."""
    spec = importlib.util.spec_from_file_location("landkit_i18n_script", ROOT / "scripts" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalogue_has_every_message_translated(script, tmp_path):
    """Every help text, message and stage name of landkit (and click's strings) has a Chinese translation."""
    found = script.problems(script.template(tmp_path))
    assert not found, f"{len(found)} message(s) lack a translation:\n  " + "\n  ".join(found) + f"\n{script.HOW_TO_FIX}"


def test_shipped_catalogue_is_the_compiled_po(script, tmp_path):
    compiled = tmp_path / "landkit.mo"
    script.compile_catalogue(script.PO, compiled)
    with open(compiled, "rb") as fresh, open(script.MO, "rb") as shipped:
        assert gettext.GNUTranslations(fresh)._catalog == gettext.GNUTranslations(shipped)._catalog, (
            f"{script.MO.relative_to(ROOT)} is not the compilation of {script.PO.relative_to(ROOT)}: "
            "run `.venv/bin/python scripts/i18n.py compile`")


def test_the_installed_package_finds_its_catalogue():
    assert isinstance(i18n.translations("zh"), gettext.GNUTranslations)
    assert i18n.LOCALE_DIR.joinpath("zh_CN", "LC_MESSAGES", "landkit.mo").is_file()


def test_help_msgids_ignore_line_breaks_but_keep_raw_blocks():
    assert help_paragraphs("""First line
        continues.

        Second\tparagraph.
        """) == ["First line continues.", "Second paragraph."]
    assert help_paragraphs("Text.\n\n\b\nkeep  this\n  as is\f hidden") == ["Text.", "\b\nkeep  this\n  as is"]


def test_commands_load_lazily_and_list_from_their_docstrings():
    """`landkit --help` imports no command module (nor geopandas); its list is each command's docstring."""
    code = ("import sys; from landkit.cli.main import main; sys.argv = ['landkit', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "loaded = [m for m in sys.modules if m.startswith('landkit.cli.') and m != 'landkit.cli.main']\n"
            "print('LOADED', loaded, 'geopandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "LANDKIT_LANG": "en"})
    assert "LOADED [] False" in done.stdout, done.stdout[-500:] + done.stderr[-500:]
    for name, command in all_commands().items():  # the docstring read from the source is the command's help
        assert help_paragraphs(command_summary(name)) == help_paragraphs(command.__dict__["_landkit_english"]["help"]), name
