"""The landing-folder sensor asks for one run per changed ledger month and one for registers."""

from dagster_project.sensors import landing_run_requests


def test_new_and_changed_files_start_runs_and_unchanged_ones_do_not():
    before = {
        "loans/08/loans_08.csv": "100:1",
        "transactions/08/transactions_08_2024-05.parquet": "50:1",
        "transactions/08/transactions_08_2024-06.parquet": "60:1",
    }
    after = before | {
        "transactions/08/transactions_08_2024-06.parquet": "61:2",  # a corrected re-send
        "transactions/02/transactions_02_2024-06.parquet": "70:2",  # another branch, same month
        "savings_deposits/08/savings_deposits_08_2024-07.csv": "9:2",
    }
    requests = landing_run_requests(before, after)

    assert [(r.job_name, r.partition_key) for r in requests] == [
        ("ledger_job", "2024-06-01"),
        ("ledger_job", "2024-07-01"),
    ]
    assert "transactions/08/transactions_08_2024-06.parquet@61:2" in requests[0].run_key
    assert "transactions/02/transactions_02_2024-06.parquet@70:2" in requests[0].run_key
    assert landing_run_requests(after, after) == []

    resent = after | {"loans/08/loans_08.csv": "101:3"}
    [registers] = landing_run_requests(after, resent)
    assert registers.job_name == "registers_job" and registers.run_key == "registers|loans/08/loans_08.csv@101:3"
