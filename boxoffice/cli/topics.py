"""`boxoffice topics check|apply`: the topics' retention and cleanup against the policy
(wiring only; the work is in boxoffice.topics)."""

from __future__ import annotations

import sys

import typer

from boxoffice.cli.common import console, settings, user_errors

app = typer.Typer(no_args_is_help=True,
                  help="The topics' retention and cleanup settings (contracts.topics).")


@app.command("check")
def check_command() -> None:
    """List every pipeline topic setting that differs from the policy; exit 1 if any."""
    from boxoffice.topics import FIX, drift

    with user_errors():
        found = drift(settings())
    for item in found:
        console.print(f"[red]differs[/red] {item}")
    if found:
        console.print(f"run `{FIX}` to set the policy's values")
        sys.exit(1)
    console.print("every existing pipeline topic follows the retention policy")


@app.command("apply")
def apply_command() -> None:
    """Set the policy's retention and cleanup on every existing pipeline topic that
    differs (deletes nothing: the policy only keeps records longer or compacts CDC)."""
    from boxoffice.topics import apply_policy

    with user_errors():
        changed = apply_policy(settings())
    for item in changed:
        console.print(f"set {item.topic}: {item.setting}={item.wanted} (was {item.actual})")
    console.print(f"{len(changed)} setting(s) changed" if changed else
                  "nothing to change: every topic follows the policy")
