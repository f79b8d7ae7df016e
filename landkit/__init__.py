"""landkit: industrial-land assessment for the 两评估、一清单、一盘活 campaign.

Topic modules follow a planner's workflow: :mod:`landkit.config` (the project file),
:mod:`landkit.inputs` and :mod:`landkit.dataset` (reading and checking the inputs),
:mod:`landkit.crs` (coordinates and areas), :mod:`landkit.validate` (checks and repairs),
:mod:`landkit.parcels` (areas, blocks, enterprises per parcel), and :mod:`landkit.cli`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("landkit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
