"""Borrowing households and their Savings and Loan Groups."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sample_data.config import BORROWERS_PER_COMMUNE, GenerationConfig
from sample_data.geography import Geography
from sample_data.text import code, concat, padded

# Tuyên Quang's population by ethnicity (approximate shares).
ETHNICITIES = {
    "Kinh": (0.46, ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đỗ", "Bùi", "Đặng", "Ngô"]),
    "Tày": (0.25, ["Ma", "Nông", "Hoàng", "Lý", "Hà", "Triệu", "Quan", "Lục", "Đàm", "Chu"]),
    "Dao": (0.115, ["Bàn", "Triệu", "Đặng", "Lý", "Phùng", "Chảo"]),
    "Sán Chay": (0.08, ["La", "Hoàng", "Lâm", "Trần", "Ninh"]),
    "Mông": (0.025, ["Giàng", "Sùng", "Vàng", "Mùa", "Thào", "Lý"]),
    "Nùng": (0.02, ["Nông", "Hoàng", "Lương", "Vi"]),
    "Sán Dìu": (0.015, ["Diệp", "Lam", "Trương"]),
    "Hoa": (0.005, ["Trương", "Lâm", "Lưu"]),
    "Cao Lan": (0.025, ["La", "Hoàng", "Trần"]),
}
GIVEN_F = ["Hoa", "Lan", "Mai", "Hương", "Thu", "Hằng", "Nga", "Yến", "Dung", "Huệ", "Lụa", "Thắm", "Nhung", "Xuân"]
GIVEN_M = [
    "Hùng",
    "Dũng",
    "Minh",
    "Tuấn",
    "Sơn",
    "Hải",
    "Thắng",
    "Toàn",
    "Quyết",
    "Chiến",
    "Páo",
    "Seo",
    "Tòng",
    "Khánh",
]
MIDDLE_M = ["Văn", "Đức", "Quang", "Xuân", "Đình"]
VILLAGES = [
    "Làng Ấm",
    "Nà Héc",
    "Khuôn Hà",
    "Bản Tấn",
    "Nà Khà",
    "Đồng Cướm",
    "Làng Chùa",
    "Nà Mụ",
    "Khau Cau",
    "Pác Ban",
    "Bản Bung",
    "Nà Tông",
    "Thượng Lâm",
    "Phiêng Luông",
    "Làng Mường",
    "Bó Củng",
]

CATEGORIES = np.array(["poor", "near_poor", "just_out_of_poverty", "other"])
CATEGORY_SHARES = [0.36, 0.24, 0.16, 0.24]
ORGANISATIONS = np.array(["HPN", "HND", "HCCB", "DTN"])
ORGANISATION_SHARES = [0.40, 0.33, 0.15, 0.12]
MEMBERS_PER_GROUP = 47
DIRECT_SHARE = 0.0061  # households served directly by the bank, outside any group


def build_borrowers(config: GenerationConfig, geography: Geography, rng: np.random.Generator) -> pd.DataFrame:
    """One row per borrowing household; registration date and phone are set once loans exist."""
    communes = geography.communes
    per_commune = np.maximum(
        3, np.round(rng.uniform(0.7, 1.3, len(communes)) * BORROWERS_PER_COMMUNE * config.scale)
    ).astype(int)
    commune_index = np.repeat(np.arange(len(communes)), per_commune)
    n = len(commune_index)
    ethnicity_names = list(ETHNICITIES)
    shares = np.array([ETHNICITIES[e][0] for e in ethnicity_names])
    ethnicity = rng.choice(len(ethnicity_names), n, p=shares / shares.sum())
    family = np.empty(n, dtype=object)
    for i, name in enumerate(ethnicity_names):  # one loop per ethnicity, not per row
        rows = ethnicity == i
        family[rows] = rng.choice(ETHNICITIES[name][1], rows.sum())
    female = rng.random(n) < 0.62  # the Women's Union brings most borrowers
    given = np.where(female, rng.choice(GIVEN_F, n), rng.choice(GIVEN_M, n))
    middle = np.where(female, "Thị", rng.choice(MIDDLE_M, n))
    birth_year = rng.integers(1955, 2003, n)

    borrower_no = np.arange(1, n + 1)
    province = communes.province_code.to_numpy()[commune_index]
    century_gender = np.where(birth_year >= 2000, 2, 0) + female.astype(int)
    # CCCD: province of birth (3 digits), century and gender (1), birth year (2), serial (6)
    national_id = concat(
        "0", province, padded(century_gender, 1), padded(birth_year % 100, 2), padded(rng.permutation(n) + 1, 6)
    )
    phone = pd.Series(concat(rng.choice(["09", "03", "08", "07"], n), padded(rng.integers(0, 10**8, n), 8)))
    phone = phone.where(rng.random(n) > 0.08)

    # New commune after the reorganisation: a split old commune sends most households to its default
    # successor, some to another one, whole villages at a time (so a group moves with its members).
    successors = geography.successors
    old_codes = communes.commune_code.to_numpy()[commune_index]
    new_codes = communes.default_new_commune_code.to_numpy()[commune_index].astype(object)
    split = successors[successors.is_split & ~successors.is_default_successor]
    move_draw = rng.random(n) if len(split) else None

    # Groups: households of a commune fill its groups evenly (about 47 members each, at most 60).
    groups_in_commune = np.maximum(1, np.round(per_commune / MEMBERS_PER_GROUP)).astype(int)
    position = np.arange(n) - np.repeat(np.cumsum(per_commune) - per_commune, per_commune)
    group_in_commune = (position * 7919) % np.repeat(groups_in_commune, per_commune)
    group_offset = np.repeat(np.cumsum(groups_in_commune) - groups_in_commune, per_commune)
    group_index = group_offset + group_in_commune
    direct = rng.random(n) < DIRECT_SHARE
    if len(split):
        others = split.groupby("old_commune_code").new_commune_code.first()
        # a group member moves as its group's first member does; a direct borrower on its own draw
        first_member = pd.Series(np.arange(n)).groupby(group_index).transform("min").to_numpy()
        moved = pd.Series(old_codes).isin(others.index).to_numpy() & (
            np.where(direct, move_draw, move_draw[first_member]) < 0.3
        )
        new_codes[moved] = pd.Series(old_codes[moved]).map(others).to_numpy()

    return pd.DataFrame(
        {
            "borrower_no": borrower_no,
            "borrower_id": code("KH" + config.id_prefix, borrower_no, 8),
            "household_id": code("HGD" + config.id_prefix, borrower_no, 8),
            "full_name": pd.Series(family) + " " + pd.Series(middle) + " " + pd.Series(given),
            "national_id": national_id,
            "phone": phone,
            "gender": np.where(female, "F", "M"),
            "birth_year": birth_year,
            "ethnicity": np.array(ethnicity_names)[ethnicity],
            "category": rng.choice(CATEGORIES, n, p=CATEGORY_SHARES),
            "commune_index": commune_index,
            "old_commune_code": old_codes,
            "new_commune_code": new_codes,
            "group_index": np.where(direct, -1, group_index),
            "mobile_banking": rng.random(n) < 0.38,
            "left_residence": False,
        }
    )


def build_groups(
    config: GenerationConfig, geography: Geography, borrowers: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    members = borrowers[borrowers.group_index >= 0]
    groups = (
        members.groupby("group_index")
        .agg(
            commune_index=("commune_index", "first"),
            new_commune_code=("new_commune_code", "first"),
            member_count=("borrower_no", "size"),
            leader=("borrower_id", "first"),
        )
        .reset_index()
    )
    communes = geography.communes
    c = groups.commune_index.to_numpy()
    number_in_commune = groups.groupby("commune_index").cumcount().to_numpy()
    village = pd.Series(rng.choice(VILLAGES, len(groups))) + " " + pd.Series(number_in_commune + 1).astype(str)
    village = np.where(rng.random(len(groups)) < 0.5, "Thôn " + village, "Bản " + village)
    established = pd.to_datetime("2009-01-01") + pd.to_timedelta(rng.integers(0, 6 * 365, len(groups)), unit="D")
    return pd.DataFrame(
        {
            "group_index": groups.group_index,
            "group_id": code("TO" + config.id_prefix, groups.group_index + 1, 6),
            "group_name": "Tổ TK&VV " + pd.Series(village),
            "village_name": village,
            "commune_code": communes.commune_code.to_numpy()[c],
            "new_commune_code": groups.new_commune_code,
            "transaction_point_id": communes.transaction_point_id.to_numpy()[c],
            "organisation_code": rng.choice(ORGANISATIONS, len(groups), p=ORGANISATION_SHARES),
            "leader_borrower_id": groups.leader,
            "established_date": established.date,
            "member_count": np.minimum(60, groups.member_count),
        }
    )
