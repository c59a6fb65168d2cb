"""What a planner reads: Vietnamese labels with their units, the scenarios' names, and the number
formats shared by the workbook, the CSV and the HTML report."""

from __future__ import annotations

import math

LEVELS = ("province", "office", "commune")  # top down, as a province reads its plan
LEVEL_NAMES = {"commune": "Xã", "office": "Phòng giao dịch", "province": "Tỉnh"}
SCENARIOS = ("demand", "capital")
SCENARIO_NAMES = {
    "demand": "Theo nhu cầu vay vốn",
    "capital": "Theo nguồn vốn dự kiến được giao",
}
# how each scenario lends (docs/domain.md §4.2), for the cover and the assumptions sheet
SCENARIO_RULES = {
    "demand": "Cho vay bằng nhu cầu vay vốn của xã theo khảo sát, không vượt quá số hộ × mức cho vay tối đa "
    "của chương trình.",
    "capital": "Mỗi xã cho vay quay vòng từ vốn thu nợ của mình (không quá nhu cầu), cộng phần vốn mới tỉnh "
    "dự kiến được giao theo từng nguồn vốn và năm, chia cho các xã và chương trình theo tỷ lệ phần nhu cầu "
    "vượt quá vốn quay vòng (không vượt quá phần đó), làm tròn đến đồng theo phần dư lớn nhất. Tỉnh, năm và "
    "nguồn vốn chưa có số liệu vốn được giao thì không có vốn mới và được đánh dấu thiếu số liệu.",
}
SOURCE_NAMES = {"central": "Trung ương", "local": "Ngân sách địa phương ủy thác"}
MILLION = 1_000_000
BILLION = 1_000_000_000

# kind: "text"; "vnd" (shown in millions of đồng); "count" (whole numbers); "rate" (a share, shown in %)
MILLIONS = "(triệu đồng)"

# The plan's rows. "Cho vay mới" (new_disbursement) already holds "Cho vay quay vòng" (relending):
# the sheets show relending and net new lending as its two parts, and their sum, never added to it.
PLAN_COLUMNS = {
    "plan_year": ("Năm kế hoạch", "year"),
    "office_name": ("Phòng giao dịch", "text"),
    "unit_code": ("Mã đơn vị", "text"),
    "unit_name": ("Đơn vị", "text"),
    "program_name": ("Chương trình cho vay", "text"),
    "funding_source": ("Nguồn vốn", "text"),
    "opening_principal": (f"Dư nợ đầu năm {MILLIONS}", "vnd"),
    "collections": (f"Thu nợ {MILLIONS}", "vnd"),
    "relending": (f"Cho vay quay vòng từ vốn thu nợ (1) {MILLIONS}", "vnd"),
    "net_new_lending": (f"Cho vay từ vốn tăng thêm (2) {MILLIONS}", "vnd"),
    "new_disbursement": (f"Tổng cho vay mới (3) = (1) + (2) {MILLIONS}", "vnd"),
    "closing_principal": (f"Dư nợ cuối năm {MILLIONS}", "vnd"),
    "growth_rate": ("Tăng trưởng dư nợ (%)", "rate"),
    "capital_needed": (f"Nguồn vốn cần tăng thêm {MILLIONS}", "vnd"),
    "demand_disbursement": (f"Nhu cầu vay vốn {MILLIONS}", "vnd"),
    "unmet_demand": (f"Nhu cầu chưa đáp ứng {MILLIONS}", "vnd"),
    "planned_households": ("Số hộ vay (hộ)", "count"),
    "planned_beneficiaries": ("Số đối tượng thụ hưởng (người)", "count"),
}
AMOUNTS = [c for c, (_, kind) in PLAN_COLUMNS.items() if kind in ("vnd", "count")]

CHECK_COLUMNS = {
    "level_name": ("Cấp", "text"),
    "unit_code": ("Mã đơn vị", "text"),
    "unit_name": ("Đơn vị", "text"),
    "plan_year": ("Năm kế hoạch", "year"),
    "opening_principal": (f"Dư nợ đầu năm {MILLIONS}", "vnd"),
    "closing_principal": (f"Dư nợ cuối năm {MILLIONS}", "vnd"),
    "growth_rate": ("Tăng trưởng dư nợ (%)", "rate"),
    "projected_overdue_ratio": ("Tỷ lệ nợ quá hạn dự kiến (%)", "rate"),
    "local_capital_share": ("Tỷ trọng vốn địa phương (%)", "rate"),
    "local_capital_share_target": ("Tỷ trọng vốn địa phương theo lộ trình (%)", "rate"),
    "local_entrustment_of_growth": ("Vốn địa phương ủy thác / tăng trưởng dư nợ (%)", "rate"),
    "verdict": ("Kết quả", "text"),
    "explanation": ("Giải thích", "wide"),
}

VS_ACTUAL_COLUMNS = {
    "level_name": ("Cấp", "text"),
    "unit_name": ("Đơn vị", "text"),
    "plan_year": ("Năm kế hoạch", "year"),
    "program_name": ("Chương trình cho vay", "text"),
    "funding_source": ("Nguồn vốn", "text"),
    "planned_closing_principal": (f"Dư nợ cuối năm kế hoạch {MILLIONS}", "vnd"),
    "actual_closing_principal": (f"Dư nợ cuối năm thực hiện {MILLIONS}", "vnd"),
    "outstanding_completion": ("Tỷ lệ hoàn thành dư nợ (%)", "rate"),
    "planned_disbursement": (f"Cho vay kế hoạch {MILLIONS}", "vnd"),
    "actual_disbursement": (f"Cho vay thực hiện {MILLIONS}", "vnd"),
    "disbursement_completion": ("Tỷ lệ hoàn thành cho vay (%)", "rate"),
}

CAPITAL_COLUMNS = {
    "level_name": ("Cấp", "text"),
    "unit_code": ("Mã đơn vị", "text"),
    "unit_name": ("Đơn vị", "text"),
    "plan_year": ("Năm kế hoạch", "year"),
    "funding_source": ("Nguồn vốn", "text"),
    "capital_available": (f"Nguồn vốn dự kiến được giao {MILLIONS}", "vnd"),
    "capital_needed": (f"Nguồn vốn cần theo nhu cầu {MILLIONS}", "vnd"),
    "capital_used": (f"Nguồn vốn sử dụng {MILLIONS}", "vnd"),
    "capital_gap": (f"Thiếu vốn {MILLIONS}", "vnd"),
    "unmet_demand": (f"Nhu cầu vay chưa đáp ứng {MILLIONS}", "vnd"),
    "capital_input_missing": ("Số liệu nguồn vốn", "text"),
}

# The Decision 05/QĐ-TTg checks (mart_credit_plan_checks), each explained as a planner would say it.
CHECK_FLAGS = {
    "misses_growth_target": (
        "Tăng trưởng dư nợ",
        "{growth_rate}, lệch quá {outstanding_growth_tolerance} so với mục tiêu {outstanding_growth}/năm",
    ),
    "misses_overdue_ceiling": (
        "Nợ quá hạn",
        "dự kiến {projected_overdue_ratio} dư nợ, không dưới mức trần {max_overdue_ratio}",
    ),
    "misses_local_capital_path": (
        "Lộ trình vốn địa phương",
        "vốn địa phương chiếm {local_capital_share} dư nợ, dưới lộ trình {local_capital_share_target} "
        "để đạt {local_capital_share_by_2030} vào năm 2030",
    ),
    "misses_local_entrustment": (
        "Vốn địa phương ủy thác",
        "ngân sách địa phương ủy thác {local_entrustment_of_growth} phần dư nợ tăng thêm, "
        "dưới mức tối thiểu {min_local_entrustment_of_growth}",
    ),
    "local_entrustment_input_missing": (
        "Vốn địa phương ủy thác",
        "chưa có kế hoạch vốn ngân sách địa phương ủy thác cho năm này: chưa đánh giá được, coi là chưa đạt",
    ),
}
MET, MISSED = "Đạt", "Không đạt"


def percent(share: float | None, digits: int = 1) -> str:
    """A share as a planner writes it: 0.297 -> '29.7 %'."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "–"
    return f"{100 * share:.{digits}f} %"


def whole(value: float | None) -> str:
    """A count or an amount in whole units, with thousands separators: 294.0 -> '294'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{round(value):,}"


def short_name(name: str) -> str:
    """'Tỉnh Tuyên Quang' -> 'Tuyên Quang' where the sentence already says 'tỉnh'."""
    for title in ("Tỉnh ", "Thành phố "):
        name = name.removeprefix(title)
    return name
