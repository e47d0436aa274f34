"""`erts tax ...`: the environmental protection tax from the command line.

- `erts tax compute --input return.json` (or `-` for stdin): one quarterly return from the
  JSON input of docs/tax.md, printed as JSON (the same figures as
  `POST /api/v1/compliance/tax-return`); bad input exits 2 naming the field.
- `erts tax parameters`: the versioned parameter table (equivalent values, rates with their
  source, bands, top-N, reductions).
"""

from __future__ import annotations

import argparse
import json

from app.cli_common import read_json


def cmd_tax_compute(args: argparse.Namespace) -> int:
    from compliance.reporting.tax_service import compute_return

    print(json.dumps(compute_return(read_json(args.input)), ensure_ascii=False, indent=2))
    return 0


def cmd_tax_parameters(_args: argparse.Namespace) -> int:
    from compliance.reporting.tax_service import parameters

    print(json.dumps(parameters(), ensure_ascii=False, indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the `tax` commands to the `erts` parser."""
    t = sub.add_parser("tax", help="environmental protection tax").add_subparsers(
        dest="tax_cmd", required=True)
    c = t.add_parser("compute", help="compute a quarterly return from a JSON input")
    c.add_argument("--input", required=True, metavar="FILE",
                   help="a quarterly return, JSON (format: docs/tax.md#input-format), "
                        "or - for stdin")
    c.set_defaults(func=cmd_tax_compute)
    t.add_parser("parameters", help="print the versioned parameter table").set_defaults(
        func=cmd_tax_parameters)
