"""People: ethnicity, Vietnamese names with diacritics, citizen ID numbers (CCCD) and phone numbers.

Shares are parameters (domain.md: verify); a commune's ethnic mix varies around its province's.
"""

from __future__ import annotations

import numpy as np

from dagster_project.sample_data.keys import choice_by_row, hash_uniform, join, to_numpy

# Population shares by ethnicity. Tuyên Quang: census figures quoted in the brief; Hà Giang, and
# a national mix for every other province.
ETHNIC_MIX = {
    "08": {"Kinh": 0.46, "Tày": 0.25, "Dao": 0.115, "Sán Chay": 0.08, "Mông": 0.025, "Nùng": 0.02, "Sán Dìu": 0.013,
           "Pà Thẻn": 0.006, "Hoa": 0.005, "Mường": 0.004},
    "02": {"Mông": 0.32, "Tày": 0.23, "Dao": 0.15, "Kinh": 0.12, "Nùng": 0.09, "Giáy": 0.02, "Hoa": 0.01, "Pà Thẻn": 0.01},
}
NATIONAL_MIX = {"Kinh": 0.853, "Tày": 0.019, "Thái": 0.019, "Mường": 0.015, "Khmer": 0.014, "Mông": 0.015, "Nùng": 0.011,
                "Dao": 0.009, "Hoa": 0.008}
URBAN_KINH_BOOST = 4.0  # towns are mostly Kinh
COMMUNE_MIX_SPREAD = 0.8  # lognormal spread of each ethnicity's share between communes

FAMILY = {
    "Kinh": {"Nguyễn": 32, "Trần": 9, "Lê": 8, "Phạm": 6, "Hoàng": 5, "Vũ": 4, "Phan": 3, "Đỗ": 3, "Bùi": 3, "Đặng": 3, "Ngô": 2,
             "Dương": 2, "Đinh": 2, "Đào": 2, "Lương": 2, "Hà": 2, "Trịnh": 2, "Lý": 1, "Cao": 1, "Mai": 1, "Tạ": 1, "Lưu": 1},
    "Tày": {"Ma": 15, "Nông": 12, "Hoàng": 12, "Lý": 8, "Hà": 8, "Nguyễn": 8, "Triệu": 6, "Quan": 5, "Lục": 4, "Đàm": 4,
            "Lương": 4, "Chu": 3, "Âu": 3, "Bế": 3, "Mạc": 2, "Vi": 2, "Phương": 1},
    "Dao": {"Bàn": 25, "Triệu": 22, "Đặng": 18, "Lý": 12, "Phùng": 8, "Chảo": 6, "Dương": 5, "Trương": 4},
    "Sán Chay": {"La": 15, "Hoàng": 12, "Lâm": 10, "Trần": 10, "Nguyễn": 10, "Ninh": 8, "Lý": 8, "Đàm": 7, "Chu": 5, "Lương": 5,
                 "Sầm": 5, "Tô": 5},
    "Mông": {"Giàng": 22, "Sùng": 15, "Vàng": 15, "Thào": 10, "Lý": 10, "Mùa": 8, "Hầu": 5, "Lầu": 5, "Ly": 5, "Vừ": 5},
    "Nùng": {"Nông": 20, "Hoàng": 20, "Lương": 10, "Vi": 10, "Lý": 10, "Lục": 10, "Hứa": 10, "Mã": 10},
    "Sán Dìu": {"Diệp": 20, "Lam": 15, "Trương": 15, "Tạ": 10, "Lỷ": 10, "Đàm": 10, "Trần": 10, "Nịnh": 10},
    "Pà Thẻn": {"Hoàng": 30, "Lý": 25, "Đặng": 25, "Lương": 20},
    "Hoa": {"Trương": 20, "Lâm": 20, "Lưu": 15, "Hoàng": 15, "Lý": 15, "Quách": 15},
    "Mường": {"Bùi": 35, "Đinh": 25, "Quách": 15, "Hà": 15, "Xa": 5, "Bạch": 5},
    "Thái": {"Lò": 25, "Cầm": 15, "Lường": 15, "Quàng": 10, "Tòng": 10, "Vi": 10, "Hà": 15},
    "Khmer": {"Thạch": 30, "Danh": 20, "Sơn": 15, "Kim": 10, "Lâm": 10, "Châu": 10, "Huỳnh": 5},
    "Giáy": {"Hoàng": 30, "Lù": 20, "Vương": 20, "Sần": 15, "Lồ": 15},
}
MIDDLE_M = {"Văn": 60, "Đức": 8, "Quang": 6, "Xuân": 6, "Minh": 6, "Hữu": 5, "Đình": 4, "Công": 3, "Mạnh": 2}
MIDDLE_F = {"Thị": 80, "Thu": 5, "Ngọc": 4, "Thanh": 4, "Hồng": 4, "Kim": 3}
MIDDLE_M_BY_ETHNICITY = {"Mông": {"A": 45, "Seo": 25, "Mí": 15, "Chứ": 15}, "Dao": {"Văn": 60, "Tiến": 25, "Phúc": 15}}
GIVEN_M = ["Hùng", "Dũng", "Minh", "Tuấn", "Sơn", "Hải", "Thắng", "Toàn", "Quyết", "Chiến", "Khánh", "Cường", "Hưng", "Long",
           "Nam", "Phúc", "Tùng", "Bình", "Hoà", "Thành", "Trung", "Đông", "Lợi", "Lâm", "Tiến", "Kiên", "Vinh", "Huy", "Quân",
           "Hiếu", "Thịnh", "Tài", "Thuận", "Quý", "Duy", "Đạt", "Hào", "Tú", "Dương", "Thọ"]
GIVEN_F = ["Hoa", "Lan", "Mai", "Hương", "Thu", "Hằng", "Nga", "Yến", "Dung", "Huệ", "Lụa", "Thắm", "Nhung", "Xuân", "Hạnh",
           "Thủy", "Liên", "Loan", "Hà", "Linh", "Trang", "Hiền", "Thảo", "Phượng", "Oanh", "Tâm", "Vân", "Hồng", "Quyên",
           "Bích", "Duyên", "Chi", "Nhàn", "Hòa", "Thơm", "Sen", "Cúc", "Đào", "Mận", "Lý"]
GIVEN_BY_ETHNICITY = {
    ("Mông", "M"): ["Páo", "Chứ", "Pó", "Dính", "Sính", "Dợ", "Sống", "Pàng", "Chờ", "Tủa", "Lử", "Súa", "Vảng", "Sáy"],
    ("Mông", "F"): ["Mỷ", "Dợ", "Mai", "Sua", "Pà", "Chá", "Máy", "Dở", "Xí", "Say"],
    ("Dao", "M"): ["Sinh", "Hin", "Phin", "Quẩy", "Chòi", "Kiều", "Nhất", "Phú", "Tài", "Lìn", "Chàn", "Sành"],
    ("Dao", "F"): ["Mẩy", "Mùi", "Xuân", "Nhất", "Kiều", "Phấy", "Chang", "Sinh"],
}
FEMALE_SHARE = 0.56  # the Women's Union brings many borrowers; household representatives are often women

# Mobile numbers: prefixes of the carriers, weighted roughly by market share.
PHONE_PREFIXES = {"032": 6, "033": 6, "034": 6, "035": 6, "036": 6, "037": 6, "038": 6, "039": 6, "086": 3, "096": 6,
                  "097": 7, "098": 7, "081": 3, "082": 3, "083": 3, "084": 3, "085": 3, "088": 3, "091": 5, "094": 5,
                  "070": 2, "076": 2, "077": 2, "078": 2, "079": 2, "089": 2, "090": 3, "093": 3, "052": 1, "056": 1,
                  "058": 1, "092": 1, "059": 1, "099": 1}
NO_PHONE_SHARE = 0.10  # rising to 0.30 for people born before 1960
# Share of borrowers with the bank's mobile banking at the export, by export year (launched 2022).
MOBILE_BANKING_SHARE = {2021: 0.0, 2022: 0.05, 2023: 0.14, 2024: 0.25, 2025: 0.36, 2030: 0.7}
BORN_ELSEWHERE_SHARE = 0.07  # citizen ID carries the province of birth


def ethnic_mix(province_code: str) -> dict[str, float]:
    return ETHNIC_MIX.get(province_code, NATIONAL_MIX)


def commune_mix(seed: int, province_code: str, commune_keys: np.ndarray, urban: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each commune's ethnic mix (cumulative shares, one row a commune) around its province's."""
    mix = ethnic_mix(province_code)
    names = list(mix)
    base = np.array([mix[n] for n in names])
    keys = commune_keys[:, None] * 64 + np.arange(len(names))[None, :]
    u1, u2 = hash_uniform(seed, keys, 11), hash_uniform(seed, keys, 12)
    z = np.sqrt(-2 * np.log(1 - u1)) * np.cos(2 * np.pi * u2)
    shares = base[None, :] * np.exp(COMMUNE_MIX_SPREAD * z)
    if "Kinh" in names:
        shares[:, names.index("Kinh")] *= np.where(urban, URBAN_KINH_BOOST, 1.0)
    shares /= shares.sum(axis=1, keepdims=True)
    return names, np.cumsum(shares, axis=1)


def _weighted(rng, table: dict[str, float], n: int) -> np.ndarray:
    names = np.array(list(table), dtype=object)
    weights = np.array(list(table.values()), dtype=float)
    return names[rng.choice(len(names), n, p=weights / weights.sum())]


def draw_people(rng: np.random.Generator, province_code: str, province_codes: list[str], ethnicity_names: list[str],
                cumulative_mix: np.ndarray, commune_index: np.ndarray, registration_year: np.ndarray,
                export_year: int) -> dict[str, np.ndarray]:
    """One household representative per row."""
    n = len(commune_index)
    ethnicity = choice_by_row(rng.random(n), cumulative_mix[commune_index])
    female = rng.random(n) < FEMALE_SHARE
    family = np.empty(n, dtype=object)
    middle = np.where(female, _weighted(rng, MIDDLE_F, n), _weighted(rng, MIDDLE_M, n))
    given = np.where(female, np.asarray(GIVEN_F, dtype=object)[rng.integers(0, len(GIVEN_F), n)],
                     np.asarray(GIVEN_M, dtype=object)[rng.integers(0, len(GIVEN_M), n)])
    for e, name in enumerate(ethnicity_names):  # a pass per ethnicity, not per person
        rows = ethnicity == e
        count = int(rows.sum())
        if not count:
            continue
        family[rows] = _weighted(rng, FAMILY.get(name, FAMILY["Kinh"]), count)
        if name in MIDDLE_M_BY_ETHNICITY:
            men = rows & ~female
            middle[men] = _weighted(rng, MIDDLE_M_BY_ETHNICITY[name], int(men.sum()))
        for sex, selector in (("M", ~female), ("F", female)):
            if (name, sex) in GIVEN_BY_ETHNICITY:
                chosen = rows & selector
                pool = np.asarray(GIVEN_BY_ETHNICITY[(name, sex)], dtype=object)
                given[chosen] = pool[rng.integers(0, len(pool), int(chosen.sum()))]
    full_name = to_numpy(join(family.astype(str), " ", middle.astype(str), " ", given.astype(str)))

    # Household heads are 22-65 when they first borrow.
    birth_year = registration_year - rng.integers(22, 66, n)
    # CCCD: province of birth (3 digits), century and gender (1), birth year (2), serial (6).
    birth_province = np.where(rng.random(n) < BORN_ELSEWHERE_SHARE,
                              np.asarray(province_codes, dtype=object)[rng.integers(0, len(province_codes), n)], province_code)
    century_gender = np.where(birth_year >= 2000, 2, 0) + female.astype(int)
    national_id = to_numpy(join("0", birth_province.astype(str), century_gender.astype(str),
                                np.char.zfill((birth_year % 100).astype(str), 2), np.char.zfill(rng.integers(0, 10**6, n).astype(str), 6)))
    phone = to_numpy(join(_weighted(rng, PHONE_PREFIXES, n).astype(str), np.char.zfill(rng.integers(0, 10**7, n).astype(str), 7)))
    no_phone = rng.random(n) < np.where(birth_year < 1960, 3 * NO_PHONE_SHARE, NO_PHONE_SHARE)
    phone[no_phone] = None

    years, shares = zip(*sorted(MOBILE_BANKING_SHARE.items()))
    share = float(np.interp(export_year, years, shares))
    by_age = np.where(birth_year >= 1985, 1.5, np.where(birth_year >= 1970, 1.0, 0.4))
    mobile_banking = ~no_phone & (rng.random(n) < share * by_age)
    return {
        "ethnicity": np.asarray(ethnicity_names, dtype=object)[ethnicity],
        "gender": np.where(female, "F", "M").astype(object),
        "full_name": full_name,
        "birth_year": birth_year,
        "national_id": national_id,
        "phone": phone,
        "mobile_banking": mobile_banking,
    }
