"""Bulk person status check (issue 4 item 5): `ikms person-check INPUT --date YYYY-MM-DD --out OUTPUT`.

An agency's list of personal codes (CSV or XLSX) -> each person's status in education on a date (enrolled,
completed, left, not found, invalid code), matched through the ingest's pseudonymiser against
marts.fct_enrolment_spells. See check.py for the rules, io.py for the input, template.py for the XLSX template,
bench.py for the benchmark."""
