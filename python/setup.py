"""Builds the package with libsounder.so inside (sounder/_lib/).

The library comes from SOUNDER_LIBRARY when that names a built
libsounder.so, otherwise from ../tools/build-clib, which needs the Swift
toolchain; nothing of Swift is needed to use the package once built. The
wheel is tagged py3-none-<platform>: the library is loaded with ctypes, so it
fits every Python 3, but only this platform.
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent


def built_library() -> Path:
    given = os.environ.get("SOUNDER_LIBRARY")
    if given:
        path = Path(given)
        if not path.is_file():
            raise SystemExit(f"SOUNDER_LIBRARY={given}: no such file")
        return path
    script = HERE.parent / "tools" / "build-clib"
    if not script.is_file():
        raise SystemExit(
            "sounder: no libsounder.so to package; set SOUNDER_LIBRARY to a built one, "
            "or install from a checkout of the repository (it builds one with tools/build-clib)")
    prefix = Path(tempfile.mkdtemp(prefix="sounder-build-"))
    subprocess.run([str(script), str(prefix)], check=True, stdout=subprocess.DEVNULL)
    return prefix / "lib" / "libsounder.so"


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "sounder" / "_lib"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built_library(), target / "libsounder.so")


class PlatformWheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


setup(packages=["sounder"], cmdclass={"build_py": BuildWithLibrary, "bdist_wheel": PlatformWheel})
