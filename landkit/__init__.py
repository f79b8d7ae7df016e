"""landkit: industrial-land assessment for the 两评估、一清单、一盘活 campaign.

The packages follow the campaign, each importing only from the ones below it (the layers
contract in ``pyproject.toml``): :mod:`landkit.cli` → :mod:`landkit.demo` → :mod:`landkit.monitor`
(定期监测) → :mod:`landkit.deliver` (the run writer and its outputs) → :mod:`landkit.pipeline`
(pure orchestration) → :mod:`landkit.result` → :mod:`landkit.analyses` (three rings, 小而散) →
:mod:`landkit.disposal` (一盘活) → :mod:`landkit.listing` (一清单) → :mod:`landkit.assess`
(两评估) → :mod:`landkit.data` (the checked dataset) → :mod:`landkit.metrics` → :mod:`landkit.engine`
→ :mod:`landkit.io` → :mod:`landkit.config` → :mod:`landkit.core`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("landkit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
