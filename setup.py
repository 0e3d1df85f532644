"""The C extension; everything else about the package is in pyproject.toml.

``spamsift._speedups`` is optional: where no C compiler is found the build goes on
without it and spamsift uses its pure-Python twins, which give the same numbers.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("spamsift._speedups", ["src/spamsift/_speedups.c"],
                             optional=True)])
