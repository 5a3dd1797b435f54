"""Build of the compiled loops of the backward induction (``model/_kernels.pyx``; Cython).

Everything else about the package is in pyproject.toml. ``model.kernels`` falls back to
its numpy expressions where the extension is not built.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("model._kernels", ["model/_kernels.pyx"], extra_compile_args=["-O3"]),
    ]
)
