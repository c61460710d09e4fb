"""The offline Plotly dashboard site (issue 6): static pages under $IKMS_DATA_DIR/dashboards built from
indicators.indicator_values by dashboards.build.build_site; every chart is drawn in the browser by
assets/site.js from JSON embedded in the page or in data/*.js (works from file://)."""
