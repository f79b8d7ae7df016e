"""Load a project file: merged over the shipped default profile key by key, validated once.

The default profile (``landkit/config/profiles/default.yaml``) holds every default, each number
commented with its source. The user's file is merged over it key by key (lists replace; the keys
of :data:`_REPLACED_WHOLE` replace whole), then validated by :class:`~landkit.config.models.Project`:
an error names the key, the bad value and what is allowed. Relative paths are resolved against
the project file.
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from landkit.config.models import Project
from landkit.core.errors import ConfigError
from landkit.core.i18n import _

DEFAULT_PROFILE = "default.yaml"


# --- loading ------------------------------------------------------------------------------------


def default_profile_text() -> str:
    """Return the shipped default profile, comments and all."""
    return resources.files("landkit.config.profiles").joinpath(DEFAULT_PROFILE).read_text(encoding="utf-8")


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``: dicts key by key, anything else replaced."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key not in _REPLACED_WHOLE:
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


#: Mappings a project replaces whole rather than key by key (a project that defines its own
#: column list for a candidate must not inherit the default's candidates for the same key).
_REPLACED_WHOLE = frozenset({"designated", "weights"})


def _format_error(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or _("(top level)")
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return _("{source}: unknown key `{key}`; check its spelling against `landkit init`'s template").format(
            source=source, key=key)
    if err["type"] == "missing":
        return _("{source}: key `{key}` is missing").format(source=source, key=key)
    value = err.get("input")
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    more = _(" (and {n} more problems)").format(n=len(exc.errors()) - 1) if len(exc.errors()) > 1 else ""
    return _("{source}: key `{key}` = {value}: {message}{more}").format(source=source, key=key, value=shown,
                                                                      message=msg, more=more)


class _UniqueKeyLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML is untyped here (no types-PyYAML)
    """PyYAML's safe loader, refusing a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, _("key `{key}` is given twice; keep one").format(key=key), key_node.start_mark)
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(_("{path}: configuration file not found").format(path=path))
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # (a SafeLoader)
    except UnicodeDecodeError:
        raise ConfigError(_("{path}: not UTF-8 text; save the YAML file as UTF-8").format(path=path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _(" line {line}").format(line=mark.line + 1) if mark else ""
        raise ConfigError(_("{path}:{where}: not valid YAML ({problem})").format(
            path=path, where=where, problem=getattr(exc, "problem", exc))) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(_("{path}: the top level must be a mapping of keys, got {type}").format(
            path=path, type=type(data).__name__))
    return data


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML file of landkit's (a mapping at the top), refusing repeated keys; ``{}`` if it is empty.

    Raises
    ------
    ConfigError
        If the file is missing, not UTF-8, not YAML, or not a mapping (naming the file and the line).
    """
    return _read_yaml(Path(path))


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Project:
    """Load a project file over the default profile and validate it.

    Parameters
    ----------
    path : str or Path, optional
        The project YAML file. Without it, the default profile alone (inputs come from the CLI).
    overrides : dict, optional
        Values that take precedence over both (e.g. inputs given on the command line).

    Returns
    -------
    Project
        The validated configuration.

    Raises
    ------
    ConfigError
        Naming the file, the key, the bad value and what is allowed.
    """
    data = yaml.safe_load(default_profile_text())
    source = _("default profile")
    base_dir = Path.cwd()
    if path is not None:
        path = Path(path)
        user = _read_yaml(path)
        data = _merge(data, user)
        source = str(path)
        if isinstance(user.get("columns"), dict):
            data["explicit_columns"] = {
                kind: list(cols) for kind, cols in user["columns"].items() if isinstance(cols, dict)
            }
        base_dir = path.resolve().parent
    if overrides:
        data = _merge(data, overrides)
    data.setdefault("base_dir", str(base_dir))
    try:
        return Project.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, source)) from None
    except ConfigError as exc:
        raise ConfigError(_("{source}: {error}").format(source=source, error=exc)) from None
