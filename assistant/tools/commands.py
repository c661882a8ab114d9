"""`apprentice tools`: what the assistant can do on this machine, from the same declarations the models see.

The listing and the JSON come from the registry (assistant/tools/__init__.py), so they never drift
from what the student is told, what Gemini is sent, and what validation enforces.

    apprentice tools            # each tool, what it does, its arguments
    apprentice tools --json     # the declarations as a JSON array (what Gemini is sent)
"""

from __future__ import annotations

import click

from assistant.output import emit_json


@click.command("tools")
@click.option("--json", "json_mode", is_flag=True, help="Print the declarations as a JSON array.")
def tools_command(json_mode: bool) -> None:
    """List the tools: name, what it does, and its arguments."""
    from assistant.tools import tools

    found = tools()
    if json_mode:
        emit_json([t.declaration for t in found.values()])
        return
    for tool in found.values():
        local = "  (stays on this machine, in every mode)" if tool.local_only else ""
        click.echo(f"{click.style(tool.name, bold=True)}: {tool.declaration['description']}{local}")
        required = set(tool.required)
        for name, schema in tool.parameters.items():
            kind = schema.get("type", "any")
            if "enum" in schema:
                kind = "|".join(map(str, schema["enum"]))
            bounds = _bounds(schema)
            need = "" if name in required else ", optional"
            about = f" - {schema['description']}" if schema.get("description") else ""
            click.echo(f"    {name} ({kind}{bounds}{need}){about}")
        click.echo()


def _bounds(schema: dict) -> str:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is None and high is None:
        return ""
    return f" {'' if low is None else f'{low:g}'}..{'' if high is None else f'{high:g}'}"
