"""The plan's spatial analyses: the three rings (:mod:`~landkit.analyses.rings`) and 小而散 with the
adjustment of the park's land (:mod:`~landkit.analyses.scatter`).
"""
