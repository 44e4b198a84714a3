"""The udev rules, parsed (udevadm verify is not available on systemd 252): each names the
device by USB vendor, product and serial and gives it the group its daemon runs with."""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = sorted((ROOT / 'udev').glob('*.rules'))

# (site, device) -> the symlink the site's config opens.
DAEMONS = {'focuser': 'focusd', 'chiller': 'chillerd'}
SYMLINKS = {
    ('clasp', 'focuser'): 'focuser',
    ('portable', 'focuser'): 'focuser',
    ('clasp', 'chiller'): 'chiller',
}
KEY = re.compile(r'\s*([A-Za-z_]+(?:\{[^}]+\})?)\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*(?:,|$)')


def parse(line):
    """One rule as {key: (operator, value)}; fails on anything that is not key op "value"."""
    keys, position = {}, 0
    while position < len(line):
        match = KEY.match(line, position)
        assert match, f'cannot parse {line[position:]!r}'
        keys[match[1]] = (match[2], match[3])
        position = match.end()
    return keys


def rules_of(path):
    return [parse(line) for line in path.read_text().splitlines() if line.strip() and not line.lstrip().startswith('#')]


def test_every_site_device_has_a_rule():
    names = {path.name for path in RULES}
    for site, device in SYMLINKS:
        assert f'10-{site}-{device}.rules' in names


@pytest.mark.parametrize('path', RULES, ids=lambda p: p.name)
def test_rule_matches_one_usb_device(path):
    rules = rules_of(path)
    assert rules, f'{path.name} has no rule'
    for rule in rules:
        for key in ('ATTRS{idVendor}', 'ATTR{idVendor}'):
            if key in rule:
                assert re.fullmatch(r'[0-9a-f]{4}', rule[key][1])
                break
        else:
            pytest.fail(f'{path.name}: no idVendor match')
        assert rule['SUBSYSTEM'][0] == '=='
        assert rule['MODE'] == ('=', '0660')
        assert rule['GROUP'][0] == '='


@pytest.mark.parametrize('site_device', sorted(SYMLINKS), ids='-'.join)
def test_serial_device_rule_makes_its_symlink(site_device):
    rules = rules_of(ROOT / 'udev' / f'10-{site_device[0]}-{site_device[1]}.rules')
    assert len(rules) == 1
    rule = rules[0]
    assert rule['SUBSYSTEM'] == ('==', 'tty')
    assert rule['ATTRS{idVendor}'][0] == rule['ATTRS{idProduct}'][0] == rule['ATTRS{serial}'][0] == '=='
    assert re.fullmatch(r'[0-9a-f]{4}', rule['ATTRS{idProduct}'][1])
    assert rule['ATTRS{serial}'][1]
    assert rule['SYMLINK'] == ('+=', SYMLINKS[site_device])
    assert rule['GROUP'] == ('=', 'dialout')


@pytest.mark.parametrize('site_device', sorted(SYMLINKS), ids='-'.join)
def test_site_config_opens_the_symlink(site_device):
    site, device = site_device
    config = json.loads((ROOT / 'config' / DAEMONS[device] / f'{site}.json').read_text())
    assert config['serial_port'] == f'/dev/{SYMLINKS[site_device]}'


def test_spectrometer_rule_opens_ocean_insight_devices_to_pycamd():
    rules = rules_of(ROOT / 'udev/10-field-spectrometer.rules')
    assert rules == [{'SUBSYSTEM': ('==', 'usb'), 'ATTR{idVendor}': ('==', '2457'),
                      'MODE': ('=', '0660'), 'GROUP': ('=', 'plugdev')}]
    unit = (ROOT / 'systemd/pycamd@.service').read_text()
    assert re.search(r'^SupplementaryGroups=.*\bplugdev\b', unit, re.M)
