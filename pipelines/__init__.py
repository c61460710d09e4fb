"""IKMS: the education quality monitoring pipeline of the Latvian education registry (VIIS)."""
