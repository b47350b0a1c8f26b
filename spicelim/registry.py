"""Backends by name: the three built-ins, a user's own, and those installed packages declare.

    spicelim.register_backend("my-model", MyBackend)     # a class or any callable returning an ArrayBackend
    xb.read(v, backend="my-model")

The registry maps names to factories (never to running simulators): each array creates its own
instances on first use through a `Backends` set and closes them with itself. A package can
declare backends under the entry-point group "spicelim.backends" (name = "module:factory"); they
are found on first lookup in every process, including Dask workers, where a backend registered
by hand in the client would be unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points

from .backend import ArrayBackend
from .errors import InvalidParameterError
from .validation import show

ENTRY_POINT_GROUP = "spicelim.backends"
_NAME = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")

_factories: dict[str, Callable[[], ArrayBackend]] = {}


def register_backend(name: str, factory: Callable[[], ArrayBackend], *, replace: bool = False) -> None:
    """Make `factory()` (an ArrayBackend subclass or a function returning an instance) available as `name`.

    name: lower-case letters, digits, '-', '_' or '.', starting with a letter. Registering a name
    twice is an error unless replace=True.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidParameterError(f"backend name must be lower-case letters, digits, '-', '_' or '.' starting"
                                    f" with a letter, got {show(name)}")
    if not callable(factory):
        raise InvalidParameterError(f"backend factory for {show(name)} must be callable, got {type(factory).__name__}")
    if name in _factories and not replace:
        raise InvalidParameterError(f"a backend named {show(name)} is already registered (pass replace=True)")
    _factories[name] = factory


def unregister_backend(name: str) -> None:
    """Forget the backend `name` (arrays that already hold an instance keep it)."""
    if _factories.pop(name, None) is None:
        raise InvalidParameterError(f"no backend named {show(name)} is registered")


def _load_entry_points() -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in _factories and _NAME.match(ep.name):
            _factories[ep.name] = ep.load()


def backend_names() -> tuple[str, ...]:
    """Names of every registered backend."""
    _load_entry_points()
    return tuple(sorted(_factories))


def create_backend(name: str) -> ArrayBackend:
    """A new instance of the backend registered as `name`."""
    if not isinstance(name, str):
        raise InvalidParameterError(f"backend must be a name or an ArrayBackend, got {type(name).__name__}")
    if name not in _factories:
        _load_entry_points()
    factory = _factories.get(name)
    if factory is None:
        raise InvalidParameterError(f"unknown backend {show(name)}; registered: {', '.join(backend_names())}")
    backend = factory()
    if not isinstance(backend, ArrayBackend):
        raise InvalidParameterError(f"the factory of backend {show(name)} returned a {type(backend).__name__},"
                                    " not a spicelim ArrayBackend")
    backend.name = name
    return backend


class Backends:
    """The backend instances one or more arrays use, created on demand by name and closed together.

    Backends(spice=SpiceBackend(run_dir=...)) starts with instances given by the caller, which
    this set uses but never closes (they may serve other arrays); every other name is created
    from the registry on first use and closed by close(). Share one Backends between arrays to
    share its ngspice worker. A Backends pickles with its instances (each without its processes);
    the unpickled copy owns and closes all of them.
    """

    def __init__(self, backends: Mapping[str, ArrayBackend] | None = None, **given: ArrayBackend):
        self._instances: dict[str, ArrayBackend] = {}
        self._owned: set[str] = set()
        for name, backend in {**(backends or {}), **given}.items():
            if not isinstance(backend, ArrayBackend):
                raise InvalidParameterError(f"backend {show(name)} must be an ArrayBackend, got {type(backend).__name__}")
            self._instances[name] = backend

    def get(self, which: str | ArrayBackend) -> ArrayBackend:
        """The backend called `which` (created on first use), or `which` itself when it is an instance."""
        if isinstance(which, ArrayBackend):
            return which
        if not isinstance(which, str):
            raise InvalidParameterError(f"backend must be a name ({', '.join(backend_names())}) or an"
                                        f" ArrayBackend, got {type(which).__name__}")
        backend = self._instances.get(which)
        if backend is None:
            backend = create_backend(which)
            self._instances[which] = backend
            self._owned.add(which)
        return backend

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._owned = set(self._instances)  # an unpickled set holds copies nobody else has: it closes them all

    def close(self) -> None:
        """Close the backends this set created (given ones stay open); they restart on demand."""
        for name in sorted(self._owned):
            self._instances[name].close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self) -> str:
        return f"Backends({', '.join(sorted(self._instances)) or 'none started'})"
