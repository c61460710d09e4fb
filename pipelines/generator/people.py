"""Persons of the demo country: a registry of blocks (birth dates, sex, home points), then personal codes,
names and home addresses for all of them at once."""
from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.common.personal_codes import make_legacy_codes, make_new_codes
from pipelines.generator import geography, names

NEW_CODE_FROM = np.datetime64("2017-07-01")
SWITCHED_TO_NEW = 0.01  # older persons who asked for a code without the birth date


class Registry:
    """Collects persons in blocks; person_key is the running number."""

    def __init__(self):
        self.blocks: list[dict[str, np.ndarray]] = []
        self.next_key = 0

    def add(self, birth: np.ndarray, sex: np.ndarray, lat: np.ndarray, lon: np.ndarray, unit: np.ndarray,
            role: str) -> np.ndarray:
        n = birth.size
        keys = np.arange(self.next_key, self.next_key + n, dtype=np.int64)
        self.next_key += n
        self.blocks.append({"person_key": keys, "birth": birth.astype("datetime64[D]"), "sex": sex,
                            "lat": lat, "lon": lon, "unit": unit.astype(np.int32),
                            "role": np.full(n, role, dtype=object)})
        return keys

    def adults(self, n: int, age_lo: float, age_hi: float, on: np.datetime64, female: float, role: str,
               rng: np.random.Generator, unit: np.ndarray | None = None, age_mode: float | None = None) -> np.ndarray:
        """n persons aged age_lo..age_hi (triangular, mode age_mode) on date `on`, living in `unit` (default:
        drawn by population)."""
        mode = age_mode if age_mode is not None else (age_lo + age_hi) / 2
        age = rng.triangular(age_lo, mode, age_hi, size=n)
        birth = on - (age * 365.25).astype("timedelta64[D]")
        sex = np.where(rng.random(n) < female, "F", "M")
        if unit is None:
            u = geography.units()
            p = u["population_2024"].to_numpy().astype(float)
            unit = rng.choice(u.height, size=n, p=p / p.sum())
        lat, lon = geography.scatter_in_unit(unit, rng, power=1.3)
        return self.add(birth, sex, lat, lon, unit, role)

    def birth_of(self, keys: np.ndarray) -> np.ndarray:
        """Birth dates of persons by key (keys are contiguous per block)."""
        blocks = [b for b in self.blocks if b["person_key"].size]
        starts = np.array([b["person_key"][0] for b in blocks])
        sizes = np.array([b["person_key"].size for b in blocks])
        all_birth = np.concatenate([b["birth"] for b in blocks])
        offsets = np.r_[0, np.cumsum(sizes)[:-1]]
        blk = np.searchsorted(starts, keys, side="right") - 1
        return all_birth[offsets[blk] + (keys - starts[blk])]

    def frame(self) -> pl.DataFrame:
        cols = {k: np.concatenate([b[k] for b in self.blocks]) if self.blocks else np.array([])
                for k in ("person_key", "birth", "sex", "lat", "lon", "unit", "role")}
        return pl.DataFrame({
            "person_key": cols["person_key"], "birth_date": cols["birth"], "sex": cols["sex"].astype(str),
            "lat": cols["lat"], "lon": cols["lon"], "unit_idx": cols["unit"], "role": cols["role"].astype(str),
        }).with_columns(pl.col("birth_date").cast(pl.Date))


def finish(persons: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Add personal_code, first_name, last_name to the persons frame (vectorised)."""
    birth = persons["birth_date"].to_numpy().astype("datetime64[D]")
    n = birth.size
    new = (birth >= NEW_CODE_FROM) | (rng.random(n) < SWITCHED_TO_NEW)
    codes = np.empty(n, dtype=object)
    codes[~new] = make_legacy_codes(birth[~new], rng)
    codes[new] = make_new_codes(int(new.sum()), rng)
    first, last = names.draw_names(persons["sex"].to_numpy(), rng)
    return persons.with_columns(
        personal_code=pl.Series(codes.astype(str)), first_name=pl.Series(first), last_name=pl.Series(last)
    )
