"""The project configuration: the models (:mod:`~landkit.config.models`), loading a project file over
the shipped profile (:mod:`~landkit.config.load`, :mod:`landkit.config.profiles`) and the safe formula
language rules and indicators are written in (:mod:`~landkit.config.formula`).
"""
