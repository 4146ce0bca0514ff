"""`boxoffice verify`: ground truth from Postgres against the same aggregates in ClickHouse.

An audit, not a monitor: it reads the whole source once (read-only role, one snapshot,
statement timeout, low priority), so run it after load stops, not every second.
"""

from boxoffice.verify.compare import CheckResult, Mismatch, compare
from boxoffice.verify.run import VerifyReport, verify, verify_until

__all__ = ["CheckResult", "Mismatch", "VerifyReport", "compare", "verify", "verify_until"]
