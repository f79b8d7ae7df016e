"""The inputs as one checked dataset: read, validated, in the working CRS, enterprises summed per
parcel, rasters summarised per parcel (:func:`landkit.data.dataset.load_dataset`).
"""
