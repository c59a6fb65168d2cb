"""Real communes of the selected province(s): Transaction Offices, transaction points, successors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.reference.admin_units import commune_crosswalk, new_communes, old_communes
from dagster_project.sample_data.config import GenerationConfig


@dataclass
class Geography:
    communes: pd.DataFrame  # one row per old commune, with its office, point and successors
    successors: pd.DataFrame  # old_commune_code, new_commune_code, is_default_successor

    @property
    def branch_code(self) -> str:
        """The exporting branch: the new (34-province) province of the communes' successors."""
        return self.communes.new_province_code.iloc[0]


def _selected_communes(config: GenerationConfig) -> pd.DataFrame:
    old = old_communes()
    if config.provinces != ("all",):
        old = old[old.province_code.isin(config.provinces)]
    old = old[~old.commune_code.str.startswith("H")]  # island districts without communes
    return old.sort_values("commune_code").reset_index(drop=True)


def branch_provinces(config: GenerationConfig) -> dict[str, tuple[str, ...]]:
    """The selected old provinces by branch: the new province their communes joined in 2025
    (provinces merged whole, so each old province has one)."""
    old = _selected_communes(config)
    crosswalk = commune_crosswalk()
    default = crosswalk[crosswalk.is_default_successor].set_index("old_commune_code").new_commune_code
    branch = old.commune_code.map(default).map(new_communes().set_index("commune_code").province_code)
    provinces = old.assign(branch=branch).groupby("branch").province_code.unique()
    return {b: tuple(sorted(codes)) for b, codes in provinces.sort_index().items()}


def build_geography(config: GenerationConfig, rng: np.random.Generator) -> Geography:
    old = _selected_communes(config)
    if config.communes:
        old = old.head(config.communes)
    crosswalk = commune_crosswalk()
    successors = crosswalk[crosswalk.old_commune_code.isin(old.commune_code)].reset_index(drop=True)
    default = successors[successors.is_default_successor].set_index("old_commune_code").new_commune_code
    new = new_communes().set_index("commune_code")

    communes = old.assign(
        default_new_commune_code=old.commune_code.map(default),
        transaction_office_code="PGD" + old.province_code + "-" + old.district_code,
        transaction_office_name="PGD " + old.district_name.str.replace("Huyện", "huyện").str.replace("Thành phố", "thành phố").str.replace("Thị xã", "thị xã"),
        transaction_point_id="TP" + old.commune_code,
        transaction_point_name="Điểm giao dịch " + old.commune_name.str.replace("Xã", "xã").str.replace("Phường", "phường").str.replace("Thị trấn", "thị trấn"),
        transaction_day=rng.integers(1, 29, len(old)),
    )
    communes["new_province_code"] = communes.default_new_commune_code.map(new.province_code)
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
