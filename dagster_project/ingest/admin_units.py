"""Vietnam's administrative units before and after the 2025 reorganisation, and the crosswalk.

Read from the data files the PyPI package `vietnamadminunits` ships (MIT): its SQLite table of
units and its old → new converter data, which lists for every old commune (keyed
`province_district_ward`) its one new commune, or for a split commune its successors and the
default one.
"""

from __future__ import annotations

import json
import sqlite3
from functools import cache
from importlib.resources import files

import pandas as pd


def _package_file(name: str):
    return files("vietnamadminunits").joinpath("data", name)


def _query(sql: str) -> pd.DataFrame:
    with sqlite3.connect(str(_package_file("dataset.db"))) as conn:
        return pd.read_sql_query(sql, conn)


@cache
def old_communes() -> pd.DataFrame:
    """The 63-province scheme in force until 30 June 2025: one row per commune (10,040).

    Five island districts had no communes (10,035 communes + 5 districts); each stands as its own
    unit here, coded `H` + its district code, so that their lending has a code to carry.
    """
    return _query(
        """
        select distinct provinceCode as province_code, province as province_name,
               districtCode as district_code, district as district_name,
               coalesce(wardCode, 'H' || districtCode) as commune_code,
               coalesce(ward, district) as commune_name,
               coalesce(wardType, 'Huyện đảo') as commune_type,
               provinceKey as province_key, districtKey as district_key,
               coalesce(wardKey, '') as commune_key
        from admin_units_legacy
        order by commune_code
        """
    )


@cache
def new_communes() -> pd.DataFrame:
    """The 34-province scheme in force from 1 July 2025: one row per commune (3,321)."""
    return _query(
        """
        select distinct provinceCode as province_code, province as province_name,
               wardCode as commune_code, ward as commune_name, wardType as commune_type,
               wardAreaKm2 as area_km2, provinceKey as province_key, wardKey as commune_key
        from admin_units
        order by commune_code
        """
    )


@cache
def commune_crosswalk() -> pd.DataFrame:
    """Old commune → new commune(s).

    One row per (old, new) pair. A commune merged whole has one row; a split commune has one
    row per successor, `is_split` set on each, and `is_default_successor` on the one the
    package names as default (the one that takes rows with no better information).
    """
    with _package_file("converter_2025.json").open(encoding="utf-8") as f:
        converter = json.load(f)

    old = old_communes()
    old_by_key = dict(zip(old.province_key + "_" + old.district_key + "_" + old.commune_key, old.commune_code))
    new = new_communes()
    new_by_key = dict(zip(new.province_key + "_" + new.commune_key, new.commune_code))

    rows = []
    for new_province_key, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward_key, old_keys in wards.items():
            for old_key in old_keys:
                rows.append((old_by_key[old_key], new_by_key[f"{new_province_key}_{new_ward_key}"], False, True))
    for new_province_key, divided in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, successors in divided.items():
            for successor in successors:
                new_code = new_by_key[f"{new_province_key}_{successor['newWardKey']}"]
                rows.append((old_by_key[old_key], new_code, True, bool(successor["isDefaultNewWard"])))
    crosswalk = pd.DataFrame(rows, columns=["old_commune_code", "new_commune_code", "is_split", "is_default_successor"])
    return crosswalk.sort_values(["old_commune_code", "new_commune_code"], ignore_index=True)
