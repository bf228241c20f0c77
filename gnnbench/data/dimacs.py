"""DIMACS CNF: a strict reader that accepts SATLIB's quirks and names the file and line of anything malformed.

Accepted: ``c`` comment lines anywhere, blank lines, clauses spanning several lines or several clauses on one
line, a last clause without its terminating ``0`` at the end of the file, and SATLIB's trailer (a line ``%``
followed by ``0``): reading stops at ``%``. Rejected, with ``<file>: line <n>: <what>``: a missing or malformed
``p cnf <variables> <clauses>`` header, a token that is not an integer, a literal whose variable exceeds the
header's count, more clauses than the header declares, and a truncated file (fewer clauses than declared).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gnnbench.errors import DataError


class DimacsError(DataError):
    """A malformed DIMACS file; the message names the file and the line."""

    def __init__(self, source: str, line: int, message: str) -> None:
        self.source, self.line = source, line
        super().__init__(f"{source}: line {line}: {message}")


@dataclass(frozen=True)
class Formula:
    """A CNF formula: ``num_vars`` variables (DIMACS ids ``1..num_vars``) and clauses of non-zero literals."""

    num_vars: int
    clauses: tuple[tuple[int, ...], ...]
    name: str = ""

    def to_dimacs(self) -> str:
        """The formula as DIMACS text, for a solver outside python-sat (:func:`parse_dimacs` reads it back)."""
        lines = [f"p cnf {self.num_vars} {len(self.clauses)}"]
        lines += [" ".join(map(str, clause)) + " 0" for clause in self.clauses]
        return "\n".join(lines) + "\n"


def read_dimacs(path: str | Path) -> Formula:
    """The formula in the DIMACS file ``path`` (named after the file's stem)."""
    path = Path(path)
    return parse_dimacs(path.read_text(), source=str(path), name=path.stem)


def parse_dimacs(text: str, source: str = "<string>", name: str = "") -> Formula:
    """Parse DIMACS CNF ``text``; ``source`` names it in errors."""
    header: tuple[int, int] | None = None
    clauses: list[tuple[int, ...]] = []
    current: list[int] = []
    line_no = 0
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("c"):
            continue
        if line.startswith("%"):
            break
        if line.startswith("p"):
            if header is not None:
                raise DimacsError(source, line_no, "a second 'p' header")
            header = _header(line, source, line_no)
            continue
        if header is None:
            raise DimacsError(source, line_no, f"clause before the 'p cnf <variables> <clauses>' header: {line!r}")
        num_vars, num_clauses = header
        for token in line.split():
            try:
                literal = int(token)
            except ValueError:
                raise DimacsError(source, line_no, f"expected an integer literal, got {token!r}") from None
            if literal == 0:
                if len(clauses) == num_clauses:
                    raise DimacsError(source, line_no, f"more clauses than the {num_clauses} the header declares")
                clauses.append(tuple(current))
                current = []
            elif abs(literal) > num_vars:
                raise DimacsError(source, line_no,
                                  f"literal {literal} is out of range: the header declares {num_vars} variables")
            else:
                current.append(literal)
    if header is None:
        raise DimacsError(source, max(line_no, 1), "no 'p cnf <variables> <clauses>' header")
    if current:  # a last clause without its terminating 0
        if len(clauses) == header[1]:
            raise DimacsError(source, line_no, f"more clauses than the {header[1]} the header declares")
        clauses.append(tuple(current))
    if len(clauses) < header[1]:
        raise DimacsError(source, line_no,
                          f"truncated: the header declares {header[1]} clauses, the file ends after {len(clauses)}")
    return Formula(num_vars=header[0], clauses=tuple(clauses), name=name)


def _header(line: str, source: str, line_no: int) -> tuple[int, int]:
    parts = line.split()
    if len(parts) != 4 or parts[0] != "p" or parts[1] != "cnf":
        raise DimacsError(source, line_no, f"expected 'p cnf <variables> <clauses>', got {line!r}")
    try:
        num_vars, num_clauses = int(parts[2]), int(parts[3])
    except ValueError:
        raise DimacsError(source, line_no, f"expected two integers in the header, got {line!r}") from None
    if num_vars < 0 or num_clauses < 0:
        raise DimacsError(source, line_no, f"negative counts in the header {line!r}")
    return num_vars, num_clauses
