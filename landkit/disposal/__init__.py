"""一盘活: a revitalisation path per parcel, with its gains and its cost (:mod:`~landkit.disposal.paths`)."""
