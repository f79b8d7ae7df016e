"""一清单: the classification and the low-efficiency inventory drawn from it (:mod:`~landkit.listing.inventory`)."""
