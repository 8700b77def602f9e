"""The architecture holds: services in bot/ know nothing of Telegram."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADAPTER = {"bot/app.py", "bot/telegram_io.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_services_do_not_import_telegram_or_handlers():
    offenders = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in ADAPTER or relative == "bot/cli.py":
            continue
        if imported_modules(path) & {"telegram", "handlers"}:
            offenders.append(relative)
    assert not offenders, f"Telegram imported outside the adapter layer: {offenders}"
