"""reducer: Earth Engine reducers on your own rasters."""
