"""Real communes of the selected province(s): Transaction Offices, transaction points, successors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.ingest.admin_units import commune_crosswalk, new_communes, old_communes
from sample_data.config import GenerationConfig


@dataclass
class Geography:
    communes: pd.DataFrame  # one row per old commune, with its office, point and successors
    successors: pd.DataFrame  # old_commune_code, new_commune_code, is_default_successor

    @property
    def branch_code(self) -> str:
        """The exporting branch: the new (34-province) province of the communes' successors."""
        return self.communes.new_province_code.iloc[0]


def _selected_communes(config: GenerationConfig) -> pd.DataFrame:
    """The selected old communes with their default 2025 successor and its (new) province, which
    is the branch that exports them."""
    old = old_communes()
    if config.provinces != ("all",):
        old = old[old.province_code.isin(config.provinces)]
    old = old[~old.commune_code.str.startswith("H")]  # island districts without communes
    old = old.sort_values("commune_code").reset_index(drop=True)
    crosswalk = commune_crosswalk()
    default = crosswalk[crosswalk.is_default_successor].set_index("old_commune_code").new_commune_code
    successor = old.commune_code.map(default)
    return old.assign(
        default_new_commune_code=successor,
        new_province_code=successor.map(new_communes().set_index("commune_code").province_code),
    )


def branch_provinces(config: GenerationConfig) -> dict[str, tuple[str, ...]]:
    """The selected old provinces by branch (provinces merged whole in 2025, so each has one)."""
    provinces = _selected_communes(config).groupby("new_province_code").province_code.unique()
    return {branch: tuple(sorted(codes)) for branch, codes in provinces.sort_index().items()}


def build_geography(config: GenerationConfig, rng: np.random.Generator) -> Geography:
    old = _selected_communes(config)
    if config.communes:
        old = old.head(config.communes)
    crosswalk = commune_crosswalk()
    successors = crosswalk[crosswalk.old_commune_code.isin(old.commune_code)].reset_index(drop=True)
    communes = old.assign(
        transaction_office_code="PGD" + old.province_code + "-" + old.district_code,
        transaction_office_name="PGD "
        + old.district_name.str.replace("Huyện", "huyện")
        .str.replace("Thành phố", "thành phố")
        .str.replace("Thị xã", "thị xã"),
        transaction_point_id="TP" + old.commune_code,
        transaction_point_name="Điểm giao dịch "
        + old.commune_name.str.replace("Xã", "xã").str.replace("Phường", "phường").str.replace("Thị trấn", "thị trấn"),
        transaction_day=rng.integers(1, 29, len(old)),
    )
    return Geography(communes, successors)


def transaction_points_register(geography: Geography) -> pd.DataFrame:
    c = geography.communes
    return pd.DataFrame(
        {
            "transaction_point_id": c.transaction_point_id,
            "transaction_point_name": c.transaction_point_name,
            "transaction_office_code": c.transaction_office_code,
            "transaction_office_name": c.transaction_office_name,
            "commune_code": c.commune_code,
            "transaction_day": c.transaction_day,
            "opened_date": pd.Timestamp("2009-01-01").date(),
        }
    )
