# pbr shim: all metadata lives in setup.cfg.
import setuptools

setuptools.setup(setup_requires=['pbr>=6.0.0'], pbr=True)
