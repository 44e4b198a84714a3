"""rockit device daemons: the python packages (the RPM specs install the executables,
configs, units and rules separately)."""
from setuptools import find_namespace_packages, setup

setup(
    name='rockit-daemons',
    version='1.0.0',
    description='Pyro4 daemons for observatory focusers, chillers, camera VMs and an SO2 camera',
    license='GPL-3.0-or-later',
    packages=find_namespace_packages(include=['rockit', 'rockit.*'], exclude=['*.__pycache__']),
    package_data={'rockit.common': ['registry.json'], 'rockit.pycam.simulator': ['data/*.npz'],
                  'rockit.pycam.references': ['*.txt', 'README.md'],
                  'rockit.web': ['static/*']},
    # rockit.common, the focuser, chiller, camvirt and web run on 3.9 (Rocky 9); pycam needs
    # 3.11, which Raspberry Pi OS has.
    python_requires='>=3.9',
    install_requires=['Pyro4', 'pyserial', 'jsonschema', 'rich'],
    extras_require={
        'camvirt': ['libvirt-python'],
        'pycam': ['numpy', 'opencv-python', 'scipy', 'seabreeze', 'astral'],
        'web': ['starlette', 'uvicorn', 'matplotlib', 'numpy'],
    },
)
