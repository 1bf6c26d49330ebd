"""docs/architecture.md names every module of the package, so a newcomer finds each one there."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_architecture_guide_names_every_module():
    guide = (ROOT / "docs" / "architecture.md").read_text()
    package = ROOT / "symparams"
    missing = [str(p.relative_to(package)) for p in sorted(package.rglob("*.py"))
               if p.name not in guide and str(p.relative_to(package)) not in guide]
    assert not missing, f"docs/architecture.md does not name: {', '.join(missing)}"


def test_no_module_level_state_carries_derivation_results():
    """Conditions travel in a formula's Out, not through a global (issue 9)."""
    for path in (ROOT / "symparams").rglob("*.py"):
        text = path.read_text()
        assert "ContextVar" not in text and "recorded_conditions" not in text, path
