"""One small module per landing-file format. Each `build*` function turns the Country (and the activity
drawn for it) into Docs (writers.base): text-cell frames that defects.py edits and base.render_lines renders."""
