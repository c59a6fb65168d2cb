"""The admin-unit reference and crosswalk, checked against vietnamadminunits' own converter."""

import pytest
from vietnamadminunits import convert_address

from dagster_project.ingest.admin_units import commune_crosswalk, new_communes, old_communes

pytestmark = pytest.mark.unit


def test_both_schemes_are_complete():
    old, new = old_communes(), new_communes()
    assert len(old) == 10_040 and old.commune_code.is_unique
    assert old.province_code.nunique() == 63
    assert len(new) == 3_321 and new.commune_code.is_unique
    assert new.province_code.nunique() == 34


def test_every_old_commune_has_exactly_one_default_successor():
    crosswalk = commune_crosswalk()
    defaults = crosswalk[crosswalk.is_default_successor]
    assert set(crosswalk.old_commune_code) == set(old_communes().commune_code)
    assert defaults.old_commune_code.is_unique and len(defaults) == 10_040
    assert set(crosswalk.new_commune_code) == set(new_communes().commune_code)
    # a commune merged whole has one successor, a split one several
    successors = crosswalk.groupby("old_commune_code").size()
    split = crosswalk.groupby("old_commune_code").is_split.first()
    assert ((successors > 1) == split).all()


def test_new_tuyen_quang_has_124_communes_from_330_old_ones_5_split():
    crosswalk = commune_crosswalk()
    new_tq = new_communes().query("province_code == '08'").commune_code
    into_tq = crosswalk[crosswalk.new_commune_code.isin(new_tq)]
    assert len(new_tq) == 124
    assert into_tq.old_commune_code.nunique() == 330
    assert into_tq[into_tq.is_split].old_commune_code.nunique() == 5
    old = old_communes().set_index("commune_code")
    assert set(old.loc[into_tq.old_commune_code.unique()].province_name) == {"Tỉnh Tuyên Quang", "Tỉnh Hà Giang"}


def test_default_successors_agree_with_the_package_converter():
    old = old_communes().query("province_code in ('08', '02')")
    default = commune_crosswalk().query("is_default_successor").set_index("old_commune_code").new_commune_code
    for unit in old.itertuples():
        converted = convert_address(f"{unit.commune_name}, {unit.district_name}, {unit.province_name}")
        assert converted.ward_code == default[unit.commune_code], unit.commune_name
