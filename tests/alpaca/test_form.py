"""Alpaca request parameters: names in any case in a GET query, exactly in a PUT form, and
values that are not what the member takes are a BadRequest (HTTP 400)."""
import pytest
from hypothesis import given, strategies as st

from rockit.alpaca.device import BadRequest, Form


def test_get_names_match_in_any_case_and_put_names_exactly():
    assert Form([('position', '5')], caseless=True).integer('Position') == 5
    assert Form([('Position', '5')], caseless=False).integer('Position') == 5
    with pytest.raises(BadRequest, match='Position is missing'):
        Form([('position', '5')], caseless=False).integer('Position')


@pytest.mark.parametrize('text, value', [('0', 0), ('-12', -12), ('+7', 7), (' 42 ', 42),
                                         ('2147483647', 2**31 - 1), ('-2147483648', -2**31)])
def test_integers(text, value):
    assert Form([('Position', text)], caseless=False).integer('Position') == value


@pytest.mark.parametrize('text', ['', 'ten', '1.5', '1e3', '0x10', '2147483648', '-2147483649', '١٢', '1_000',
                                  '0\x1f', '\x1c5'])
def test_what_is_not_a_32_bit_integer_is_a_bad_request(text):
    with pytest.raises(BadRequest):
        Form([('Position', text)], caseless=False).integer('Position')


@pytest.mark.parametrize('text, value', [('true', True), ('False', False), ('TRUE', True)])
def test_booleans(text, value):
    assert Form([('Connected', text)], caseless=False).boolean('Connected') is value


@pytest.mark.parametrize('text', ['', 'yes', '1', 'truee'])
def test_what_is_not_true_or_false_is_a_bad_request(text):
    with pytest.raises(BadRequest):
        Form([('Connected', text)], caseless=False).boolean('Connected')


@pytest.mark.parametrize('text, value', [('9', 9), ('4294967295', 2**32 - 1), ('4294967296', 0), ('-1', 0),
                                         ('x', 0), ('', 0)])
def test_transaction_ids_are_unsigned_32_bit_or_0(text, value):
    assert Form([('ClientTransactionID', text)], caseless=True).transaction_id('ClientTransactionID') == value


@given(st.text())
def test_any_text_is_an_integer_or_a_bad_request(text):
    form = Form([('Position', text)], caseless=False)
    try:
        value = form.integer('Position')
    except BadRequest:
        return
    assert value == int(text) and -2**31 <= value < 2**31
