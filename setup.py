"""Build the C core and its Cython bindings; fall back to pure Python without a compiler."""
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class OptionalBuildExt(build_ext):
    """Build the extension, but let the install succeed on the pure-Python backend
    when there is no working C compiler."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # compiler missing or broken
            self._warn(exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._warn(exc)

    @staticmethod
    def _warn(exc):
        print(f"ckptsched: C extension not built ({exc}); the pure-Python backend will be used",
              file=sys.stderr)


def extensions():
    if os.environ.get("CKPTSCHED_NO_EXTENSIONS", "").strip() not in ("", "0"):
        return []
    from Cython.Build import cythonize

    schedule = Extension(
        "ckptsched._schedule_c",
        sources=["ckptsched/_schedule_c.pyx", "src_c/ckpt.c"],
        include_dirs=["src_c"],
        depends=["src_c/ckpt.h", "src_c/ckpt_arith.h", "ckptsched/_ckpt.pxd"],
        # -O3: the schedule fill loops are vectorized (Schedule.steps at memory bandwidth)
        extra_compile_args=["-std=c11", "-O3"] if os.name != "nt" else [],
    )
    sweep = Extension(
        "ckptsched._sweep_c",
        sources=["ckptsched/_sweep_c.pyx", "src_c/ckpt.c", "src_c/ckpt_sweep.c"],
        include_dirs=["src_c"],
        depends=["src_c/ckpt.h", "src_c/ckpt_arith.h", "src_c/ckpt_sweep.h", "ckptsched/_ckpt.pxd",
                 "ckptsched/_ckpt_sweep.pxd"],
        # -O3: the fill loops are vectorized (they write at memory bandwidth);
        # -fno-trapping-math lets gcc vectorize the double comparisons of count_regular
        # (it changes no result: only whether a floating-point exception may be raised)
        extra_compile_args=["-std=c11", "-O3", "-fno-trapping-math"] if os.name != "nt" else [],
    )
    return cythonize([schedule, sweep], compiler_directives={"language_level": "3"})


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
