"""What planners pull: the 2026–2030 credit plan of a province under a scenario (demand-led or
capital-led), as the workbook a province signs (workbook.py), CSV for people and Parquet for
machines (tables.py), charts (charts.py) and a standalone HTML report (report_html.py), all read
from the published copies of the marts (marts.py)."""

from dagster_project.outputs.plan.export import FORMATS, export_plan
from dagster_project.outputs.plan.labels import LEVELS, SCENARIOS

__all__ = ["FORMATS", "LEVELS", "SCENARIOS", "export_plan"]
