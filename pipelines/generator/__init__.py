"""The demo-country generator: a realistic, deterministic Latvia of learners, staff and institutions written
in the real file formats of the feeds (models/contracts), with injected defects and their manifest."""
