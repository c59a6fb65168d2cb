"""Real communes of the selected old provinces: their Transaction Offices, transaction points,
villages, and each village's commune after the 2025 reorganisation.

Commune attributes (size, transaction day, villages) come from a hash of the commune code, so a
commune looks the same whether it is generated alone or with the whole country.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dagster_project.reference.admin_units import commune_crosswalk, new_communes, old_communes
from dagster_project.sample_data import config as C
from dagster_project.sample_data.dates import day
from dagster_project.sample_data.keys import hash_uniform

UNINHABITED = {"huyenhoangsa"}  # island district with no residents to lend to
COMMUNE_SIZE_SIGMA = 0.35  # spread of borrower numbers between communes (lognormal)
URBAN_SIZE = {"Phường": 0.45, "Thị trấn": 0.75}  # fewer policy borrowers in towns
GROUPS_PER_VILLAGE = 1.3
SPLIT_DEFAULT_SHARE = 0.75  # villages of a split commune that go to its default successor

# Village names: Tày/Nùng-style (Nà, Khuổi, Pác …) and Kinh-style, with `Thôn` / `Bản`; towns have `Tổ dân phố`.
VILLAGE_HEADS = ["Nà", "Khuổi", "Pác", "Phiêng", "Khau", "Lũng", "Nặm", "Cốc", "Pù", "Bó", "Đon", "Thẳm", "Khun", "Pắc", "Nhùng", "Làng"]
VILLAGE_TAILS = ["Héc", "Mụ", "Khà", "Luông", "Tấn", "Cuổi", "Tông", "Vài", "Lừa", "Mạ", "Bung", "Coóc", "Pài", "Thin", "Quân",
                 "Chang", "Tàu", "Lòa", "Vèn", "Lạn", "Hán", "Thốc", "Mường", "Đứa"]
KINH_HEADS = ["Tân", "Đồng", "Gò", "Cây", "Phúc", "An", "Minh", "Hợp", "Trung", "Thượng", "Hạ", "Quyết"]
KINH_TAILS = ["Lập", "Tâm", "Thành", "Mới", "Hoà", "Tiến", "Phú", "Lộc", "An", "Thịnh", "Khai", "Sơn", "Bình", "Yên", "Hưng", "Long"]
VILLAGE_NAMES = [f"Bản {h} {t}" for h in VILLAGE_HEADS for t in VILLAGE_TAILS] + [f"Thôn {h} {t}" for h in KINH_HEADS for t in KINH_TAILS]


@dataclass
class Province:
    """One old province's selected communes and their villages."""

    code: str
    name: str
    branch_code: str  # new (34-province) code of its communes' successors
    communes: pd.DataFrame  # one row per old commune
    villages: pd.DataFrame  # one row per village: commune_index, village_name, new_commune_code

    @property
    def commune_codes(self) -> np.ndarray:
        return self.communes.commune_code.to_numpy(dtype=object)


def commune_key(codes: pd.Series) -> np.ndarray:
    """An integer per commune code (island districts coded H + district: 100000 + district)."""
    return np.where(codes.str.startswith("H"), 100_000 + pd.to_numeric(codes.str[1:], errors="coerce").fillna(0),
                    pd.to_numeric(codes, errors="coerce").fillna(0)).astype(np.int64)


def selected_communes(config: C.GenerationConfig) -> pd.DataFrame:
    old = old_communes()
    old = old[~old.district_key.isin(UNINHABITED)]
    if not config.whole_country:
        unknown = set(config.provinces) - set(old.province_code)
        if unknown:
            raise ValueError(f"unknown old province codes: {sorted(unknown)}")
        old = old[old.province_code.isin(config.provinces)]
    old = old.sort_values("commune_code", ignore_index=True)
    return old.head(config.communes) if config.communes else old


def branches(config: C.GenerationConfig) -> dict[str, list[str]]:
    """Branch code -> the old provinces it exports for, in code order."""
    selected = selected_communes(config)
    default = commune_crosswalk().query("is_default_successor").set_index("old_commune_code").new_commune_code
    new_province = new_communes().set_index("commune_code").province_code
    branch = selected.commune_code.map(default).map(new_province)
    pairs = pd.DataFrame({"branch": branch, "province": selected.province_code}).drop_duplicates().sort_values(["branch", "province"])
    return {b: list(group.province) for b, group in pairs.groupby("branch", sort=True)}


def build_province(config: C.GenerationConfig, province_code: str) -> Province:
    everything = old_communes()
    whole = everything[(everything.province_code == province_code) & ~everything.district_key.isin(UNINHABITED)]
    whole = whole.sort_values("commune_code", ignore_index=True)
    key = commune_key(whole.commune_code)
    seed = config.seed

    # Borrowers per commune: lognormal around the province density, fewer in towns; normalised
    # over the whole old province so that a subset keeps its communes' share.
    z = np.sqrt(-2 * np.log(1 - hash_uniform(seed, key, 1))) * np.cos(2 * np.pi * hash_uniform(seed, key, 2))
    weight = np.exp(COMMUNE_SIZE_SIGMA * z) * whole.commune_type.map(URBAN_SIZE).fillna(1.0).to_numpy()
    weight = weight / weight.mean()
    density = C.ACTIVE_BORROWERS_PER_COMMUNE.get(province_code, C.ACTIVE_BORROWERS_PER_COMMUNE_DEFAULT)
    whole = whole.assign(expected_active=density * weight * config.scale, key=key)

    chosen = selected_communes(config)
    communes = whole[whole.commune_code.isin(chosen.commune_code)].reset_index(drop=True)
    key = communes.key.to_numpy()
    groups = np.maximum(1, np.round(communes.expected_active * (1 - C.DIRECT_HOUSEHOLD_SHARE) / C.ACTIVE_MEMBERS_PER_GROUP)).astype(int)
    opened = day("2003-03-01") + (hash_uniform(seed, key, 4) * 3 * 365).astype(np.int64)
    communes = communes.assign(
        transaction_day=1 + (hash_uniform(seed, key, 3) * 28).astype(np.int64),
        opened_day=opened,
        groups=groups,
        villages=np.maximum(1, np.round(groups / GROUPS_PER_VILLAGE)).astype(int),
        urban=communes.commune_type.isin(["Phường", "Thị trấn"]).to_numpy(),
        transaction_office_code="PGD" + communes.province_code + "-" + communes.district_code,
        transaction_office_name="PGD " + _lower_unit_type(communes.district_name),
        transaction_point_id="TP" + communes.province_code + communes.commune_code,
        transaction_point_name="Điểm giao dịch " + _lower_unit_type(communes.commune_name),
    )
    villages = _villages(config, communes)
    crosswalk = commune_crosswalk()
    default = crosswalk[crosswalk.is_default_successor].set_index("old_commune_code").new_commune_code
    branch = new_communes().set_index("commune_code").province_code[default[communes.commune_code.iloc[0]]]
    communes["default_new_commune_code"] = communes.commune_code.map(default).to_numpy()
    villages["new_commune_code"] = _village_successors(config, communes, villages, crosswalk)
    return Province(province_code, communes.province_name.iloc[0], branch, communes, villages)


def _lower_unit_type(names: pd.Series) -> pd.Series:
    """`Huyện Yên Sơn` -> `huyện Yên Sơn`: the unit type reads in lower case after a noun."""
    return names.str.replace(r"^(Huyện|Thành phố|Thị xã|Quận|Xã|Phường|Thị trấn)", lambda m: m.group(1).lower(), regex=True)


def _villages(config: C.GenerationConfig, communes: pd.DataFrame) -> pd.DataFrame:
    count = communes.villages.to_numpy()
    commune = np.repeat(np.arange(len(communes)), count)
    number = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)  # 0-based within the commune
    # Distinct names within a commune: a commune-specific start and a stride coprime with the pool size.
    pool = len(VILLAGE_NAMES)
    start = (hash_uniform(config.seed, communes.key.to_numpy(), 5) * pool).astype(np.int64)[commune]
    name = np.asarray(VILLAGE_NAMES, dtype=object)[(start + number * 37) % pool]
    urban = communes.urban.to_numpy()[commune]
    name = np.where(urban, "Tổ dân phố " + (number + 1).astype(str).astype(object), name)
    return pd.DataFrame({"commune_index": commune, "village_no": number, "village_name": name,
                         "key": communes.key.to_numpy()[commune] * 1000 + number})


def _village_successors(config, communes, villages, crosswalk) -> np.ndarray:
    """A split old commune's villages go mostly to its default successor, the others to another one."""
    old_code = communes.commune_code.to_numpy()[villages.commune_index]
    new_code = communes.default_new_commune_code.to_numpy()[villages.commune_index].astype(object)
    others = crosswalk[crosswalk.is_split & ~crosswalk.is_default_successor & crosswalk.old_commune_code.isin(set(old_code))]
    if len(others):
        options = others.groupby("old_commune_code").new_commune_code.agg(list)
        u = hash_uniform(config.seed, villages.key.to_numpy(), 6)
        moved = pd.Series(old_code).isin(options.index).to_numpy() & (u >= SPLIT_DEFAULT_SHARE)
        for old, successors in options.items():  # a handful of split communes
            rows = moved & (old_code == old)
            pick = ((u[rows] - SPLIT_DEFAULT_SHARE) / (1 - SPLIT_DEFAULT_SHARE) * len(successors)).astype(int)
            new_code[rows] = np.asarray(successors, dtype=object)[np.minimum(pick, len(successors) - 1)]
    return new_code
