"""定期监测: year-over-year monitoring of runs — read two runs (:mod:`~landkit.monitor.read`), compare
them (:mod:`~landkit.monitor.compare`), write the comparison (:mod:`~landkit.monitor.write`).
"""
