"""Native libraries that must be loaded in a given order in one process.

decord loads its `libdecord.so` with RTLD_GLOBAL, and that library carries (and exports) an old static copy
of libstdc++'s `std::random_device`. Whatever binds those symbols after it gets decord's copy. The xllamacpp
wheel is one: it takes `random_device::_M_init` from the global scope but `_M_getval` from the system's
libstdc++, so with decord's `_M_init` the function pointer `_M_getval` calls through is never set, and every
llama.cpp chat completion (its id is random) jumps through stack garbage: a segfault that depends on what
ran before in the process. Making the system's libstdc++ global first, before decord, puts its definitions
ahead of decord's in the global scope, and both halves are the system's.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools


@functools.cache
def system_libstdcxx_first() -> None:
    """Load the system's libstdc++ into the global symbol scope (once; a no-op where there is none)."""
    with contextlib.suppress(OSError):
        ctypes.CDLL(ctypes.util.find_library("stdc++") or "libstdc++.so.6", mode=ctypes.RTLD_GLOBAL)
