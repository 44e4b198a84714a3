"""The instrument's file names: what processing reads from them, and nothing but a
NamingError from names that are not the instrument's."""
import datetime

import pytest
from hypothesis import given, strategies as st

from processing_harness import SEQ_1, needs_data
from rockit.pycam.errors import NamingError
from rockit.pycam.storage.names import images_in, parse_image_name, parse_spectrum_name, plume_pairs


def test_image_name_fields():
    name = parse_image_name('/data/2018-03-26T143238_fltrA_1ag_1399829ss_0ppmm.png')
    assert name.time == datetime.datetime(2018, 3, 26, 14, 32, 38, tzinfo=datetime.timezone.utc)
    assert (name.filter, name.band, name.gain, name.exposure_us) == ('fltrA', 'on', 1.0, 1399829)
    assert (name.kind, name.cell_ppmm, name.darkcorr) == ('0ppmm', 0, False)
    assert name.stamp == '2018-03-26T143238'


def test_darkcorr_and_plain_types():
    name = parse_image_name('2018-03-26T143749_fltrB_1ag_99980ss_Clear_darkcorr.png')
    assert (name.band, name.kind, name.darkcorr, name.cell_ppmm) == ('off', 'Clear', True, None)
    assert parse_image_name('2018-03-26T143238_fltrA_2ag_10ss_1257ppmm.png').cell_ppmm == 1257
    assert parse_image_name('2018-03-26T143238_fltrB_1ag_10ss_Test.png').kind == 'Test'


def test_spectrum_name_fields():
    name = parse_spectrum_name('2019-05-29T124401_1000ss_1coadd_Plume.npy')
    assert (name.integration_ms, name.coadds, name.kind) == (1000, 1, 'Plume')
    assert name.time.tzinfo is datetime.timezone.utc


@pytest.mark.parametrize('bad', ['', 'x.png', '2018-03-26T143238_fltrC_1ag_10ss_Plume.png',
                                 '2018-13-26T143238_fltrA_1ag_10ss_Plume.png',
                                 '2018-03-26T143238_fltrA_1ag_ss_Plume.png',
                                 '2018-03-26T143238_fltrA_1ag_10ss_Plume.npy'])
def test_names_that_are_not_the_instruments(bad):
    with pytest.raises(NamingError):
        parse_image_name(bad)


@given(st.text(max_size=80))
def test_garbage_names_only_raise_naming_error(text):
    for parse in (parse_image_name, parse_spectrum_name):
        try:
            parse(text.replace('/', '_').replace('\x00', '') + '.png')
        except NamingError:
            pass


@needs_data
def test_seq_1_pairs_share_a_slot():
    pairs = plume_pairs(images_in(SEQ_1))
    assert len(pairs) == 10, 'Seq_1 has 10 fltrA frames, each with a fltrB frame in the same slot'
    for on, off in pairs:
        assert on.time == off.time and (on.band, off.band) == ('on', 'off')
