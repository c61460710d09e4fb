"""Pieces every stage shares: settings, school years, personal codes, the pseudonymiser, contracts."""
