"""The two assessments: performance (亩均 indicators → weighted score → A/B/C/D per track,
:mod:`~landkit.assess.performance`), value (:mod:`~landkit.assess.valuation`), the land status
(:mod:`~landkit.assess.land_status`) and the block/park land intensity (:mod:`~landkit.assess.blocks`).
"""
