"""Decision tools on top of an assessment: policy scenarios (:mod:`landkit.decide.scenarios`)."""
