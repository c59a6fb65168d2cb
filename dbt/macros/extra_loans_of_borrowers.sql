{#
  Counting borrowers owing in the cells of a mart: a borrower owing on two loans of one cell counts
  once. A distinct count over every loan-month keeps a set per cell, which at 15 M loan-months was
  most of a mart's time; instead a mart counts the loans owing and takes off, per month-end and
  cell, the extra loans of the few borrowers holding more than one loan in the same cell.

  loan_cells: a relation with loan_id, cell_number and borrower_key, one row per loan.
  Returns as_of_date, cell_number, extra_loans (only where there are some).
#}
{% macro extra_loans_of_borrowers(loan_cells, balances) %}
    select as_of_date, cell_number, cast(sum(loans_owing - 1) as bigint) as extra_loans
    from (
        select balances.as_of_date, sharing.cell_number, sharing.borrower_key, count(*) as loans_owing
        from {{ balances }} as balances
        inner join (
            select loan_cells.loan_id, loan_cells.cell_number, loan_cells.borrower_key
            from {{ loan_cells }} as loan_cells
            inner join (
                select cell_number, borrower_key
                from {{ loan_cells }}
                where borrower_key is not null
                group by cell_number, borrower_key
                having count(*) > 1
            ) as shared
                on shared.cell_number = loan_cells.cell_number and shared.borrower_key = loan_cells.borrower_key
        ) as sharing
            on sharing.loan_id = balances.loan_id
        where balances.outstanding_principal > 0
        group by balances.as_of_date, sharing.cell_number, sharing.borrower_key
    ) as borrower_months
    where loans_owing > 1
    group by as_of_date, cell_number
{% endmacro %}
