"""The 12 open datasets: definitions (open_data/), disclosure control, exports and the CKAN publisher."""
